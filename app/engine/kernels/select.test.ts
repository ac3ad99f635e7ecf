import { describe, expect, it } from 'vitest';
import { checkVariant, isSoftwareAdapter, kernelVariant, probeVariant, selectVariant, UnsupportedVariantError, wasProbed } from './select.ts';
import { SOFTWARE_TUNING } from './tuning.ts';
import { testContext } from '../../test/gpu.ts';

describe('kernel variant selection', () => {
  it('picks subgroups and software shapes on SwiftShader', async () => {
    const ctx = await testContext();
    expect(isSoftwareAdapter(ctx)).toBe(true);
    const variant = selectVariant(ctx);
    expect(variant.reduction).toBe(ctx.has('subgroups') ? 'subgroup' : 'workgroup');
    expect(variant.matvecWorkgroupSize).toBe(SOFTWARE_TUNING.matvecWorkgroupSize);
    expect(variant.f16Read).toBe(ctx.has('shader-f16') ? 'shader-f16' : 'unpack');
    expect(variant.reason).toMatch(/software adapter/);
  });

  it('falls back to workgroup reductions without subgroups', async () => {
    const ctx = await testContext({ disableFeatures: ['subgroups'] });
    expect(ctx.has('subgroups')).toBe(false);
    const variant = selectVariant(ctx);
    expect(variant.reduction).toBe('workgroup');
    expect(variant.reason).toMatch(/no subgroups feature/);
    expect(() => checkVariant(ctx, { ...variant, reduction: 'subgroup' })).toThrow(UnsupportedVariantError);
  });

  it('rejects shader-f16 reads without the feature', async () => {
    const ctx = await testContext({ disableFeatures: ['shader-f16'] });
    expect(() => checkVariant(ctx, { ...selectVariant(ctx), f16Read: 'shader-f16' })).toThrow(/shader-f16/);
  });

  it('probe times both reductions and keeps the faster', async () => {
    const ctx = await testContext({ disableFeatures: ['timestamp-query'] }); // a context of its own, so the choice stays local
    const shape = { tokens: 64, inFeatures: 64, outFeatures: 64 };
    expect(wasProbed(ctx)).toBe(false);
    const variant = await probeVariant(ctx, { denseShape: shape, ternaryShape: shape });
    expect(wasProbed(ctx)).toBe(true);
    if (ctx.has('subgroups')) expect(variant.reason).toMatch(/subgroup [\d.]+ ms, workgroup [\d.]+ ms/);
    expect(variant.reason).toMatch(/dense matmul with .*registers [\d.]+ ms, workgroup tiles [\d.]+ ms/);
    expect(variant.reason).toMatch(/ternary matmul with .*registers [\d.]+ ms, workgroup tiles [\d.]+ ms/);
    expect(kernelVariant(ctx)).toBe(variant);
  });
});
