import { describe, expect, it } from 'vitest';
import { copyKernel } from './copy.ts';
import { testContext } from '../../test/gpu.ts';

describe('copy kernel', () => {
  it('copies every word of an odd-sized buffer', async () => {
    const ctx = await testContext();
    const words = 4 * 1000 + 4; // not a multiple of the 256-thread workgroup
    const data = new Uint32Array(words).map((_, i) => (i * 2654435761) >>> 0);
    const src = ctx.upload('copy src', data);
    const dst = ctx.createBuffer('copy dst', data.byteLength);
    ctx.run([copyKernel(ctx, src, dst, data.byteLength)]);
    const out = new Uint32Array(await ctx.read(dst));
    expect(out).toEqual(data);
  });
});
