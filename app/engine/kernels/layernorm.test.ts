import { describe, expect, it } from 'vitest';
import { layerNormKernel, type LayerNormOptions } from './layernorm.ts';
import { layerNormReference } from '../reference/norm.ts';
import { expectClose, randomFloats, testContext } from '../../test/gpu.ts';
import { ShapeError } from '../gpu/errors.ts';

async function runNorm(x: Float32Array, rows: number, cols: number, options: { kind?: 'layer' | 'rms'; weight?: Float32Array; bias?: Float32Array } = {}) {
  const ctx = await testContext();
  const gpuOptions: LayerNormOptions = { kind: options.kind };
  if (options.weight) gpuOptions.weight = ctx.upload('ln weight', options.weight);
  if (options.bias) gpuOptions.bias = ctx.upload('ln bias', options.bias);
  const input = ctx.upload('ln x', x);
  const output = ctx.createBuffer('ln y', x.byteLength);
  ctx.run([layerNormKernel(ctx, input, output, rows, cols, gpuOptions)]);
  return new Float32Array(await ctx.read(output));
}

describe('layernorm kernel', () => {
  // 3 rows of 300 columns: neither is a multiple of the 256-thread workgroup.
  const rows = 3;
  const cols = 300;

  it('matches LayerNorm without affine', async () => {
    const x = randomFloats(rows * cols, 1, -3, 5);
    const out = await runNorm(x, rows, cols);
    expectClose(out, layerNormReference(x, rows, cols), 2e-5, 1e-5, 'layernorm');
  });

  it('applies weight and bias', async () => {
    const x = randomFloats(rows * cols, 2, -3, 3);
    const weight = randomFloats(cols, 3, 0.5, 2);
    const bias = randomFloats(cols, 4);
    const out = await runNorm(x, rows, cols, { weight, bias });
    expectClose(out, layerNormReference(x, rows, cols, { weight, bias }), 2e-5, 1e-5, 'affine layernorm');
  });

  it('matches RMSNorm with weight', async () => {
    const x = randomFloats(rows * cols, 5, -2, 4);
    const weight = randomFloats(cols, 6, 0.5, 2);
    const out = await runNorm(x, rows, cols, { kind: 'rms', weight });
    expectClose(out, layerNormReference(x, rows, cols, { kind: 'rms', weight }), 2e-5, 1e-5, 'rmsnorm');
  });

  it('maps a zero row to the bias', async () => {
    const x = new Float32Array(2 * 257);
    x.set(randomFloats(257, 7), 257);
    const bias = randomFloats(257, 8);
    const out = await runNorm(x, 2, 257, { bias });
    expectClose(out.subarray(0, 257), bias, 0, 0, 'zero row');
    expectClose(out, layerNormReference(x, 2, 257, { bias }), 2e-5, 1e-5, 'rows');

    const rms = await runNorm(x, 2, 257, { kind: 'rms' });
    expectClose(rms.subarray(0, 257), new Float32Array(257), 0, 0, 'zero row, RMSNorm');
  });

  it('keeps precision on large offsets and magnitudes', async () => {
    const x = randomFloats(rows * cols, 9, -1, 1);
    for (let c = 0; c < cols; c++) {
      x[c] = 1e4 + x[c]; // mean far from zero, unit spread: E[x²] - E[x]² would lose every digit
      x[2 * cols + c] *= 1e17; // squares near 1e34, still finite in f32
    }
    const out = await runNorm(x, rows, cols);
    expectClose(out, layerNormReference(x, rows, cols), 2e-3, 1e-4, 'offset rows');
    expect(out.every(Number.isFinite)).toBe(true);
  });

  it('rejects a short input buffer', async () => {
    const ctx = await testContext();
    const small = ctx.createBuffer('short x', 16);
    expect(() => layerNormKernel(ctx, small, small, 2, 8)).toThrow(ShapeError);
  });
});
