import { describe, expect, it } from 'vitest';
import { softmaxKernel } from './softmax.ts';
import { softmaxReference } from '../reference/attention.ts';
import { expectClose, randomFloats, testContext } from '../../test/gpu.ts';

describe('softmax kernel', () => {
  it('normalizes odd-sized rows, large logits included', async () => {
    const ctx = await testContext();
    const rows = 4;
    const cols = 517;
    const x = randomFloats(rows * cols, 41, -5, 5);
    for (let c = 0; c < cols; c++) x[cols + c] *= 1e4; // e^x overflows f32 without the max
    x.fill(-7, 2 * cols, 3 * cols); // a constant row is uniform
    const buffer = ctx.upload('softmax x', x);
    ctx.run([softmaxKernel(ctx, buffer, rows, cols)]);
    const out = new Float32Array(await ctx.read(buffer));
    expectClose(out, softmaxReference(x, rows, cols), 1e-7, 1e-5, 'softmax');
    for (let r = 0; r < rows; r++) {
      const sum = out.subarray(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
    }
  });
});
