import { describe, expect, it } from 'vitest';
import { denseLinear, rowsPerBinding, uploadDenseWeight, type DenseDtype, type DenseWeight } from './dense.ts';
import { kernelVariant } from './select.ts';
import { variantsFor } from './testing.ts';
import type { KernelVariant } from './tuning.ts';
import type { GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { denseMagnitude, denseReference } from '../reference/dense.ts';
import { encodeHalf, halfToFloat } from '../model/half.ts';
import { randomFloats, testContext } from '../../test/gpu.ts';

// Tolerance: |y − reference| ≤ 1e-6 · Σ|x · w| + 1e-30, the rounding an f32 sum of a few hundred
// terms can make in any order (the reference sums in double precision). f16 weights are compared
// against the halves actually stored, so conversion error does not count.

interface Setup {
  tokens: number;
  inFeatures: number;
  outFeatures: number;
  dtype: DenseDtype;
  bias: boolean;
  /** Binding cap for the weight upload; forces a split into parts when small. */
  maxBindingSize?: number;
}

async function runDense(ctx: GpuContext, s: Setup, variant: KernelVariant, seed: number): Promise<{ y: Float32Array; weight: DenseWeight }> {
  const x = randomFloats(s.tokens * s.inFeatures, seed, -2, 2);
  const w = randomFloats(s.outFeatures * s.inFeatures, seed + 1, -1, 1);
  const bias = s.bias ? randomFloats(s.outFeatures, seed + 2, -4, 4) : undefined;
  const stored = s.dtype === 'f16' ? encodeHalf(w) : w;
  const exactW = s.dtype === 'f16' ? Float32Array.from(stored as Uint16Array, halfToFloat) : w;

  const input = ctx.upload('dense test x', x);
  const weight = uploadDenseWeight(ctx, 'dense test weight', stored, s.outFeatures, s.inFeatures, s.dtype, s.maxBindingSize);
  const biasBuffer = bias ? ctx.upload('dense test bias', bias) : undefined;
  const output = ctx.createBuffer('dense test y', s.tokens * s.outFeatures * 4);
  const dispatches = denseLinear(ctx, { input, weight, bias: biasBuffer, tokens: s.tokens, inFeatures: s.inFeatures, outFeatures: s.outFeatures, output }, variant);
  ctx.run(dispatches);
  const y = new Float32Array(await ctx.read(output));

  const want = denseReference(x, exactW, bias, s.tokens, s.inFeatures, s.outFeatures);
  const magnitude = denseMagnitude(x, exactW, s.tokens, s.inFeatures, s.outFeatures);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(y[i] - want[i]), `y[${i}] = ${y[i]}, expected ${want[i]}`).toBeLessThanOrEqual(1e-6 * magnitude[i] + 1e-30);
  }
  for (const b of [input, output, ...weight.parts]) b.destroy();
  biasBuffer?.destroy();
  return { y, weight };
}

describe('denseLinear', async () => {
  const ctx = await testContext();

  const dtypes: { dtype: DenseDtype; f16Read: KernelVariant['f16Read'] }[] = [
    { dtype: 'f32', f16Read: 'unpack' },
    { dtype: 'f16', f16Read: 'unpack' },
    { dtype: 'f16', f16Read: 'shader-f16' },
  ];

  for (const { name, variant: base } of variantsFor(ctx)) {
    for (const { dtype, f16Read } of dtypes) {
      const variant: KernelVariant = { ...base, f16Read };
      const needsF16 = dtype === 'f16' && f16Read === 'shader-f16';
      // NOTE: SwiftShader has no shader-f16, so the f16-typed read runs only on adapters that have it.
      describe.skipIf(needsF16 && !ctx.has('shader-f16'))(`${name} ${dtype}${dtype === 'f16' ? ` ${f16Read}` : ''}`, () => {
        it('mat-vec matches on odd shapes', async () => {
          // 45 rows: no multiple of 4 or 8 rows a workgroup. 37 vec4s a row: fewer than the threads.
          await runDense(ctx, { tokens: 1, inFeatures: 148, outFeatures: 45, dtype, bias: true }, variant, 1);
          await runDense(ctx, { tokens: 1, inFeatures: 1032, outFeatures: 7, dtype, bias: false }, variant, 2);
        });

        it('matmul matches on odd shapes', async () => {
          // 37 tokens × 45 rows: no multiple of the 32 × 32 workgroup tile.
          await runDense(ctx, { tokens: 37, inFeatures: 148, outFeatures: 45, dtype, bias: true }, variant, 3);
          await runDense(ctx, { tokens: 2, inFeatures: 64, outFeatures: 5, dtype, bias: false }, variant, 4);
          // Past one 64 × 64 workgroup tile in both directions.
          await runDense(ctx, { tokens: 70, inFeatures: 40, outFeatures: 130, dtype, bias: true }, variant, 8);
        });

        it('splits weights across bindings', async () => {
          // 8 rows a binding: 45 rows take 6 parts, the last of 5 rows.
          for (const tokens of [1, 9]) {
            const rowBytes = 148 * (dtype === 'f16' ? 2 : 4);
            const split = await runDense(ctx, { tokens, inFeatures: 148, outFeatures: 45, dtype, bias: true, maxBindingSize: 8 * rowBytes + 3 }, variant, 5);
            expect(split.weight.parts.length).toBe(6);
            const whole = await runDense(ctx, { tokens, inFeatures: 148, outFeatures: 45, dtype, bias: true }, variant, 5);
            expect(whole.weight.parts.length).toBe(1);
            expect(Array.from(split.y)).toEqual(Array.from(whole.y));
          }
        });
      });
    }
  }

  it('runs on a device without subgroups or shader-f16', async () => {
    const plain = await testContext({ disableFeatures: ['subgroups', 'shader-f16'] });
    const variant = kernelVariant(plain);
    expect(variant.reduction).toBe('workgroup');
    expect(variant.f16Read).toBe('unpack');
    for (const tokens of [1, 5]) {
      await runDense(plain, { tokens, inFeatures: 148, outFeatures: 45, dtype: 'f16', bias: true }, variant, 7);
    }
  });

  it('splits the head at 128 MiB', async () => {
    const capped = await testContext({ maxStorageBufferBindingSize: 128 * 2 ** 20 });
    expect(capped.maxBindingSize).toBe(128 * 2 ** 20);
    // 50304 × 2048 f16 = 206 MB: 32768 rows a part, two parts.
    const rows = rowsPerBinding(capped.maxBindingSize, 2048, 'f16');
    expect(rows).toBe(32768);
    expect(Math.ceil(50304 / rows)).toBe(2);
    // The same path on a small tensor, on the capped device.
    await runDense(capped, { tokens: 1, inFeatures: 64, outFeatures: 30, dtype: 'f16', bias: false, maxBindingSize: 7 * 64 * 2 }, variantsFor(capped)[0].variant, 6);
  });

  it('rejects a part over the binding limit', () => {
    const buffer = ctx.createBuffer('dense reject', 4096);
    const weight: DenseWeight = { parts: [buffer], rowsPerPart: 2 ** 30, dtype: 'f32' };
    expect(() => denseLinear(ctx, { input: buffer, weight, tokens: 1, inFeatures: 4, outFeatures: 2 ** 28, output: buffer })).toThrow(ShapeError);
  });

  it('rejects a wrong number of parts', () => {
    const buffer = ctx.createBuffer('dense parts', 4096);
    const weight: DenseWeight = { parts: [buffer], rowsPerPart: 4, dtype: 'f32' };
    expect(() => denseLinear(ctx, { input: buffer, weight, tokens: 1, inFeatures: 8, outFeatures: 9, output: buffer })).toThrow(/need 3 weight parts; got 1/);
  });

  it('rejects inFeatures not a multiple of 4', () => {
    const buffer = ctx.createBuffer('dense odd', 4096);
    const weight: DenseWeight = { parts: [buffer], rowsPerPart: 4, dtype: 'f16' };
    expect(() => denseLinear(ctx, { input: buffer, weight, tokens: 1, inFeatures: 6, outFeatures: 4, output: buffer })).toThrow(/multiple of 4/);
  });
});
