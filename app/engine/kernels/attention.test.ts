import { describe, expect, it } from 'vitest';
import { attentionKernel, cachedAttentionKernel, decodeAttentionKernels, fullAttentionKernel, selectDecodeAttentionVariant } from './attention.ts';
import { isSoftwareAdapter } from './select.ts';
import { createKvCache, kvValueOffset, kvWriteKernel, type KvCacheLayout } from './kv-cache.ts';
import { createStepBuffer, writeStepParams } from './step.ts';
import { attentionReference } from '../reference/attention.ts';
import { expectClose, randomFloats, testContext } from '../../test/gpu.ts';
import { ShapeError } from '../gpu/errors.ts';

/** Splits packed rows [T, 3·d] into q, k, v [T, d]. */
function split(qkv: Float32Array, tokens: number, d: number) {
  const part = (s: number) => {
    const out = new Float32Array(tokens * d);
    for (let t = 0; t < tokens; t++) out.set(qkv.subarray(t * 3 * d + s * d, t * 3 * d + s * d + d), t * d);
    return out;
  };
  return { q: part(0), k: part(1), v: part(2) };
}

describe('full attention kernel', () => {
  // 4 threads: fewer than the 20 dims. 64: 3 groups of 20 with 4 threads left over. 256: 12 groups.
  for (const workgroupSize of [4, 64, 256]) {
    it(`matches the reference for packed q | k | v (${workgroupSize} threads)`, async () => {
      const ctx = await testContext();
      const tokens = 13;
      const heads = 3;
      const headDim = 20;
      const d = heads * headDim;
      const qkv = randomFloats(tokens * 3 * d, 31, -2, 2);
      const out = ctx.createBuffer('full attention out', tokens * d * 4);
      ctx.run([fullAttentionKernel(ctx, ctx.upload('full attention qkv', qkv), out, tokens, heads, headDim, 'full attention', workgroupSize)]);
      const { q, k, v } = split(qkv, tokens, d);
      expectClose(new Float32Array(await ctx.read(out)), attentionReference(q, k, v, tokens, tokens, heads, headDim, false), 2e-6, 1e-5, 'full attention');
    });
  }

  it('large scores on separate buffers', async () => {
    const ctx = await testContext();
    const tokens = 4;
    const heads = 2;
    const headDim = 64;
    const d = heads * headDim;
    const q = randomFloats(tokens * d, 32, -30, 30); // scores in the thousands: e^s overflows without the max
    const k = randomFloats(tokens * d, 33, -30, 30);
    const v = randomFloats(tokens * d, 34, -1, 1);
    const operand = (buffer: GPUBuffer) => ({ buffer, offset: 0, rowStride: d, headStride: headDim });
    const out = ctx.createBuffer('separate attention out', tokens * d * 4);
    const dispatch = attentionKernel(ctx, {
      q: operand(ctx.upload('q', q)),
      k: operand(ctx.upload('k', k)),
      v: operand(ctx.upload('v', v)),
      out,
      tokens,
      heads,
      headDim,
      maxKeys: tokens,
      causal: false,
    });
    ctx.run([dispatch]);
    const result = new Float32Array(await ctx.read(out));
    expect(result.every(Number.isFinite)).toBe(true);
    expectClose(result, attentionReference(q, k, v, tokens, tokens, heads, headDim, false), 1e-4, 1e-4, 'large scores');
  });

  it('rejects more keys than workgroup memory holds', async () => {
    const ctx = await testContext();
    const buffer = ctx.createBuffer('huge', 4 * 1024 * 1024);
    expect(() => fullAttentionKernel(ctx, buffer, buffer, 9000, 1, 8)).toThrow(ShapeError);
  });
});

describe('cached attention', () => {
  const layout: KvCacheLayout = { layers: 2, heads: 2, headDim: 16, maxPositions: 300 };
  const d = layout.heads * layout.headDim;

  it('writes k and v rows at their positions', async () => {
    const ctx = await testContext();
    const cache = createKvCache(ctx, layout);
    const tokens = 3;
    const qkv = randomFloats(tokens * 3 * d, 35);
    const step = createStepBuffer(ctx, 'kv step', { position: 297, kvLength: 300 });
    ctx.run([kvWriteKernel(ctx, ctx.upload('kv qkv', qkv), cache, 1, step, tokens)]);
    const data = new Float32Array(await ctx.read(cache.layers[1]));
    const { k, v } = split(qkv, tokens, d);
    for (let t = 0; t < tokens; t++) {
      for (let h = 0; h < layout.heads; h++) {
        const slot = (h * layout.maxPositions + 297 + t) * layout.headDim;
        expect(data.subarray(slot, slot + layout.headDim)).toEqual(k.subarray(t * d + h * layout.headDim, t * d + (h + 1) * layout.headDim));
        const vSlot = kvValueOffset(layout) + slot;
        expect(data.subarray(vSlot, vSlot + layout.headDim)).toEqual(v.subarray(t * d + h * layout.headDim, t * d + (h + 1) * layout.headDim));
      }
    }
  });

  for (const workgroupSize of [undefined, 256]) {
    it(`runs prefill, decode and a second chunk (${workgroupSize ?? 'default'} threads)`, async () => {
      const ctx = await testContext();
      const cache = createKvCache(ctx, layout);
      // Fill layer 0 with NaN: any read at or past kvLength would poison the output.
      ctx.write(cache.layers[0], new Float32Array(cache.layers[0].size / 4).fill(NaN));
      const total = 270; // past 256, so threads take several keys each
      const all = randomFloats(total * 3 * d, 36, -2, 2);
      const { q, k, v } = split(all, total, d);
      const expected = attentionReference(q, k, v, total, total, layout.heads, layout.headDim, true);
      const step = createStepBuffer(ctx, 'attention step');

      const chunks: [number, number][] = [[0, 261], [261, 1], [262, 8]];
      for (const [position, tokens] of chunks) {
        const qkv = ctx.upload(`chunk at ${position}`, all.subarray(position * 3 * d, (position + tokens) * 3 * d));
        const out = ctx.createBuffer(`out at ${position}`, tokens * d * 4);
        writeStepParams(ctx, step, { position, kvLength: position + tokens });
        ctx.run([kvWriteKernel(ctx, qkv, cache, 0, step, tokens), cachedAttentionKernel(ctx, qkv, cache, 0, out, step, tokens, 'attention', workgroupSize)]);
        const result = new Float32Array(await ctx.read(out));
        expectClose(result, expected.subarray(position * d, (position + tokens) * d), 2e-6, 1e-5, `chunk at ${position}`);
      }
    });
  }
});

describe('decode attention', () => {
  const layout: KvCacheLayout = { layers: 1, heads: 3, headDim: 24, maxPositions: 150 };
  const d = layout.heads * layout.headDim;

  for (const [variant, workgroupSize] of [['split', 32], ['split', 128], ['single', undefined]] as const) {
    it(`matches causal attention (${variant}, ${workgroupSize ?? 'default'} threads)`, async () => {
      const ctx = await testContext();
      const cache = createKvCache(ctx, layout);
      ctx.write(cache.layers[0], new Float32Array(cache.layers[0].size / 4).fill(NaN));
      const total = 133; // 32-key chunks: 4 full and one of 5, then 0-key chunks up to 150
      const all = randomFloats(total * 3 * d, 37, -3, 3);
      const { q, k, v } = split(all, total, d);
      const expected = attentionReference(q, k, v, total, total, layout.heads, layout.headDim, true);
      const step = createStepBuffer(ctx, 'decode step', { position: 0, kvLength: total - 1 });
      ctx.run([kvWriteKernel(ctx, ctx.upload('prefix', all.subarray(0, (total - 1) * 3 * d)), cache, 0, step, total - 1)]);

      const last = ctx.upload('last token', all.subarray((total - 1) * 3 * d));
      const out = ctx.createBuffer('decode out', d * 4);
      writeStepParams(ctx, step, { position: total - 1, kvLength: total });
      ctx.run([kvWriteKernel(ctx, last, cache, 0, step, 1), ...decodeAttentionKernels(ctx, last, cache, 0, out, step, { variant, workgroupSize })]);
      expectClose(new Float32Array(await ctx.read(out)), expected.subarray((total - 1) * d), 2e-6, 1e-5, `${variant} decode`);
    });
  }

  it('picks single on a CPU driver', async () => {
    const ctx = await testContext();
    expect(selectDecodeAttentionVariant(ctx)).toBe(isSoftwareAdapter(ctx) ? 'single' : 'split');
  });
});
