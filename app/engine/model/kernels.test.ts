// The model's own kernels against CPU references on real WebGPU, with shapes that do not divide
// the 64-thread workgroups.
import { describe, expect, it } from 'vitest';
import { expectClose, randomFloats, testContext } from '../../test/gpu.ts';
import { createStepBuffer } from '../kernels/step.ts';
import { attentionReference } from '../reference/attention.ts';
import { rescale, rowAttention, unpackInt8 } from './kernels.ts';

describe('model kernels', () => {
  it('row attention, causal, from fused qkv rows', async () => {
    const ctx = await testContext();
    const [tokens, heads, headDim, position] = [37, 3, 20, 5];
    const d = heads * headDim;
    const keys = position + tokens;
    // q is the first third of fused q | k | v rows; k and v are head-major [heads, keys, headDim].
    const qkv = randomFloats(tokens * 3 * d, 1, -2, 2);
    const k = randomFloats(keys * d, 2, -2, 2);
    const v = randomFloats(keys * d, 3);
    const headMajor = (rows: Float32Array) => {
      const out = new Float32Array(rows.length);
      for (let p = 0; p < keys; p++) for (let h = 0; h < heads; h++) out.set(rows.subarray(p * d + h * headDim, p * d + (h + 1) * headDim), (h * keys + p) * headDim);
      return out;
    };
    const q = new Float32Array(tokens * d);
    for (let t = 0; t < tokens; t++) q.set(qkv.subarray(t * 3 * d, t * 3 * d + d), t * d);

    const output = ctx.createBuffer('attention output', tokens * d * 4);
    const step = createStepBuffer(ctx, 'test step', { position, kvLength: keys });
    const qkvBuffer = ctx.upload('qkv', qkv);
    const kBuffer = ctx.upload('k', headMajor(k));
    const vBuffer = ctx.upload('v', headMajor(v));
    ctx.run([
      rowAttention(ctx, {
        q: { buffer: qkvBuffer, offset: 0, rowStride: 3 * d, headStride: headDim },
        k: { buffer: kBuffer, offset: 0, rowStride: headDim, headStride: keys * headDim },
        v: { buffer: vBuffer, offset: 0, rowStride: headDim, headStride: keys * headDim },
        output,
        step,
        queries: tokens,
        heads,
        headDim,
        maxKeys: keys,
        causal: true,
      }),
    ]);
    const expected = attentionReference(q, k, v, tokens, keys, heads, headDim, true, position);
    // f32 sums and a running softmax against doubles.
    expectClose(new Float32Array(await ctx.read(output)), expected, 2e-6, 2e-5, 'causal attention');
  });

  it('row attention, full, over kvLength keys', async () => {
    const ctx = await testContext();
    const [tokens, heads, headDim] = [65, 2, 16];
    const d = heads * headDim;
    const q = randomFloats(tokens * d, 4, -3, 3);
    const k = randomFloats(tokens * d, 5, -3, 3);
    const v = randomFloats(tokens * d, 6);
    const operand = (data: Float32Array, label: string) => ({ buffer: ctx.upload(label, data), offset: 0, rowStride: d, headStride: headDim });
    const output = ctx.createBuffer('attention output', tokens * d * 4);
    const step = createStepBuffer(ctx, 'test step', { position: 0, kvLength: tokens });
    ctx.run([rowAttention(ctx, { q: operand(q, 'q'), k: operand(k, 'k'), v: operand(v, 'v'), output, step, queries: tokens, heads, headDim, maxKeys: tokens, causal: false })]);
    const expected = attentionReference(q, k, v, tokens, tokens, heads, headDim, false);
    expectClose(new Float32Array(await ctx.read(output)), expected, 2e-6, 2e-5, 'full attention');
  });

  it('int8 unpack and rescale, with and without accumulate', async () => {
    const ctx = await testContext();
    const [tokens, cols] = [3, 68];
    const codes = Int8Array.from({ length: tokens * cols }, (_, i) => ((i * 37) % 256) - 128);
    const unpacked = ctx.createBuffer('codes as f32', tokens * cols * 4);
    ctx.run([unpackInt8(ctx, { q: ctx.upload('codes', codes), tokens, cols, output: unpacked })]);
    expect(Array.from(new Float32Array(await ctx.read(unpacked)))).toEqual(Array.from(codes));

    const acc = Float32Array.from({ length: tokens * cols }, (_, i) => (i % 17) * 13 - 100);
    const sx = new Float32Array([127 / 3, 64, 0.5]);
    const sw = 1.25;
    const base = randomFloats(tokens * cols, 7);
    const output = ctx.upload('output', base);
    const once = rescale(ctx, { acc: ctx.upload('acc', acc), scales: ctx.upload('sx', sx), sw, tokens, cols, output });
    const added = rescale(ctx, { acc: ctx.upload('acc', acc), scales: ctx.upload('sx', sx), sw, tokens, cols, output, accumulate: true });
    ctx.run([once, added]);
    const y = acc.map((a, i) => a / (sx[Math.floor(i / cols)] * sw));
    expectClose(new Float32Array(await ctx.read(output)), y.map((value) => 2 * value), 0, 1e-6, 'y = acc / (sx·sw), then += the same');
  });
});
