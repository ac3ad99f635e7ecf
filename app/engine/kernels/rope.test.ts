import { describe, expect, it } from 'vitest';
import { ropeKernel, uploadRopeTable } from './rope.ts';
import { createStepBuffer } from './step.ts';
import { buildRopeTable, ropeReference } from '../reference/rope.ts';
import { expectClose, randomFloats, testContext } from '../../test/gpu.ts';

describe('rope kernel', () => {
  const heads = 3;
  const headDim = 10;
  const tokens = 7;

  async function run(position: number, clip: number | null, seed: number) {
    const ctx = await testContext();
    const table = uploadRopeTable(ctx, 2048, headDim, 10000);
    const qkv = randomFloats(tokens * 3 * heads * headDim, seed, -4, 4);
    const buffer = ctx.upload('rope qkv', qkv);
    const step = createStepBuffer(ctx, 'rope step', { position, kvLength: position + tokens });
    ctx.run([ropeKernel(ctx, buffer, table, step, tokens, heads, { clip })]);
    const out = new Float32Array(await ctx.read(buffer));
    const expected = ropeReference(qkv, tokens, heads, headDim, position, buildRopeTable(2048, headDim, 10000), clip ?? undefined);
    return { out, expected, qkv };
  }

  it('rotates q and k at step positions', async () => {
    const { out, expected, qkv } = await run(2030, null, 21);
    expectClose(out, expected, 2e-6, 1e-6, 'rope');
    const d = heads * headDim;
    expect(out.subarray(2 * d, 3 * d)).toEqual(qkv.subarray(2 * d, 3 * d)); // v of token 0 untouched
  });

  it('clamps q, k and v before rotating', async () => {
    const { out, expected } = await run(5, 1.5, 22);
    expectClose(out, expected, 2e-6, 1e-6, 'clipped rope');
    const d = heads * headDim;
    for (let t = 0; t < tokens; t++) {
      for (let j = 0; j < d; j++) expect(Math.abs(out[t * 3 * d + 2 * d + j])).toBeLessThanOrEqual(1.5);
    }
  });

  it('float32 angles unless float64 requested', () => {
    const f32 = buildRopeTable(2048, 128, 10000);
    const f64 = buildRopeTable(2048, 128, 10000, 'float64');
    // Position 0 is the identity either way; at 2047 the f32 angle rounding shows.
    expect(f32[0]).toBe(1);
    expect(f32[1]).toBe(0);
    const last = 2047 * 64 * 2;
    expect(Math.abs(f32[last] - Math.cos(2047))).toBeLessThan(1e-6);
    expect(Math.abs(f64[last] - Math.cos(2047))).toBeLessThan(1e-7);
    const i = 1;
    const angle32 = Math.fround(2047 * Math.fround(1 / Math.fround(Math.pow(10000, 2 / 128))));
    expect(f32[last + 2 * i]).toBe(Math.fround(Math.cos(angle32)));
  });
});
