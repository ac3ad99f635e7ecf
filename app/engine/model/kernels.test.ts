// The dense benchmark mode's kernels against CPU references on real WebGPU, with row lengths that
// do not divide the 64-thread workgroups.
import { describe, expect, it } from 'vitest';
import { expectClose, randomFloats, testContext } from '../../test/gpu.ts';
import { rescale, unpackInt8 } from './kernels.ts';

describe('model kernels', () => {
  it('unpack and rescale, both accumulate modes', async () => {
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
