import { describe, expect, it } from 'vitest';
import { testContext } from '../../test/gpu.ts';
import { TERNARY_PACKING } from '../ternary/pack.ts';
import { resolveDims } from './config.ts';
import { buildTestPackage } from './test-package.ts';
import { loadWeights } from './weights.ts';

describe('weight loader', () => {
  it('uploads a package with the current packing', async () => {
    const ctx = await testContext();
    const source = buildTestPackage();
    const weights = await loadWeights(ctx, source, resolveDims(source.manifest));
    expect(weights.gpuBytes).toBeGreaterThan(0);
    weights.destroy();
  });

  it('rejects ternary tensors packed another way', async () => {
    const ctx = await testContext();
    const source = buildTestPackage();
    const name = Object.keys(source.manifest.tensors).find((n) => source.manifest.tensors[n].dtype === 'ternary2')!;
    expect(source.manifest.tensors[name].packing).toBe(TERNARY_PACKING);
    source.manifest.tensors[name].packing = 'ternary2-rows16';
    await expect(loadWeights(ctx, source, resolveDims(source.manifest))).rejects.toThrow(
      new RegExp(`"${name.replaceAll('.', '\\.')}" is packed as "ternary2-rows16".*Convert the checkpoint again`),
    );
  });
});
