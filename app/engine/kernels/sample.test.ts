import { describe, expect, it } from 'vitest';
import { sampleKernel, selectArgmaxVariant, type ArgmaxVariant } from './sample.ts';
import { createStepBuffer, writeStepParams } from './step.ts';
import { argmaxReference, topPDistribution } from '../reference/sample.ts';
import { randomFloats, testContext } from '../../test/gpu.ts';
import type { GpuContext } from '../gpu/context.ts';

const VARIANTS: ArgmaxVariant[] = ['workgroup', 'subgroups'];

/** Runs `draws` samples with sampleIndex 0..draws-1 and returns the token history. */
async function draw(ctx: GpuContext, logits: Float32Array, vocabSize: number, settings: { temperature: number; topP: number; seed: number }, draws: number, variant?: ArgmaxVariant) {
  const logitBuffer = ctx.upload('sample logits', logits);
  const token = ctx.createBuffer('sample token', 4);
  const history = ctx.createBuffer('sample history', draws * 4);
  const scratch = ctx.createBuffer('sample scratch', (vocabSize + 4) * 4);
  const step = createStepBuffer(ctx, 'sample step');
  const dispatch = sampleKernel(ctx, logitBuffer, token, step, { vocabSize, history, scratch, variant });
  for (let i = 0; i < draws; i++) {
    writeStepParams(ctx, step, { position: 0, kvLength: 0, sampleIndex: i, ...settings });
    ctx.run([dispatch]);
  }
  const ids = new Uint32Array(await ctx.read(history));
  const tail = new Float32Array(await ctx.read(scratch, 16, vocabSize * 4));
  const last = new Uint32Array(await ctx.read(token))[0];
  return { ids, last, threshold: tail[0], kept: tail[1], total: tail[2], keptCount: tail[3] };
}

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
function chiSquare(ids: Uint32Array, distribution: { ids: number[]; probabilities: number[] }): number {
  const counts = new Map<number, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  let chi = 0;
  distribution.ids.forEach((id, k) => {
    const expected = distribution.probabilities[k] * ids.length;
    chi += ((counts.get(id) ?? 0) - expected) ** 2 / expected;
  });
  return chi;
}

describe('sample kernel', () => {
  it('selects subgroups when the adapter has them', async () => {
    const ctx = await testContext();
    expect(selectArgmaxVariant(ctx)).toBe(ctx.has('subgroups') ? 'subgroups' : 'workgroup');
  });

  for (const variant of VARIANTS) {
    it(`takes the argmax with lowest-id ties (${variant})`, async () => {
      const ctx = await testContext();
      if (variant === 'subgroups' && !ctx.has('subgroups')) return;
      const vocab = 1000;
      const logits = randomFloats(vocab + 24, 61, -20, 20);
      logits[700] = 1e30;
      logits[10] = 1e30; // tie: 10 wins
      logits[11] = -Infinity;
      logits.fill(3e38, vocab); // padding ids past the vocabulary are never chosen
      expect(argmaxReference(logits, vocab)).toBe(10);
      const { last } = await draw(ctx, logits, vocab, { temperature: 0, topP: 1, seed: 1 }, 1, variant);
      expect(last).toBe(10);
    });
  }

  it('keeps exactly the top-p set', async () => {
    const ctx = await testContext();
    const vocab = 300;
    // Probabilities 0.4, 0.25, 0.15, 0.1, 0.06 and 295 ids sharing 0.04.
    const logits = new Float32Array(vocab).fill(Math.log(0.04 / 295));
    [0.4, 0.25, 0.15, 0.1, 0.06].forEach((p, k) => (logits[50 * k + 7] = Math.log(p)));
    for (const [topP, keptIds] of [[0.3, 1], [0.5, 2], [0.79, 3], [0.85, 4], [0.93, 5], [1, 300]] as const) {
      const expected = topPDistribution(logits, vocab, 1, topP);
      expect(expected.ids.length).toBe(keptIds);
      const result = await draw(ctx, logits, vocab, { temperature: 1, topP, seed: 5 }, 1);
      expect(result.keptCount).toBe(keptIds);
      expect(expected.ids).toContain(result.last);
    }
  });

  it('matches the tempered distribution statistically', async () => {
    const ctx = await testContext();
    const vocab = 300;
    const logits = new Float32Array(vocab + 4).fill(-30);
    [2, 1.5, 1.2, 0.4, 0, -0.5].forEach((l, k) => (logits[37 * k + 3] = l));
    logits[vocab] = 50; // past the vocabulary: never drawn
    const settings = { temperature: 0.8, topP: 1, seed: 1234 };
    const draws = 1200;
    const { ids } = await draw(ctx, logits, vocab, settings, draws);
    const expected = topPDistribution(logits, vocab, settings.temperature, 1);
    const likely = { ids: expected.ids.filter((_, k) => expected.probabilities[k] > 1e-6), probabilities: expected.probabilities.filter((p) => p > 1e-6) };
    expect(likely.ids.length).toBe(6);
    for (const id of ids) expect(likely.ids).toContain(id);
    // 5 degrees of freedom: P(χ² > 20.5) = 0.001 for a correct sampler.
    expect(chiSquare(ids, likely)).toBeLessThan(20.5);
  });

  it('draws only from the nucleus, in proportion', async () => {
    const ctx = await testContext();
    const vocab = 260;
    const logits = randomFloats(vocab, 62, -4, 0);
    [3, 2.6, 2.2, 1.9].forEach((l, k) => (logits[60 * k + 1] = l));
    const settings = { temperature: 0.5, topP: 0.85, seed: 99 };
    const expected = topPDistribution(logits, vocab, settings.temperature, settings.topP);
    const { ids, keptCount, total, kept } = await draw(ctx, logits, vocab, settings, 500);
    expect(keptCount).toBe(expected.ids.length);
    expect(kept / total).toBeGreaterThanOrEqual(0.85);
    for (const id of ids) expect(expected.ids).toContain(id);
    // The three largest logits hold 0.90 of the mass, the first two 0.79: three ids are kept.
    // P(χ² > 13.8 | 2 degrees of freedom) = 0.001.
    expect(expected.ids.length).toBe(3);
    expect(chiSquare(ids, expected)).toBeLessThan(13.8);
  });

  it('repeats a seed and changes with another', async () => {
    const ctx = await testContext();
    const vocab = 64;
    const logits = randomFloats(vocab, 63, 0, 1);
    const settings = { temperature: 1, topP: 1, seed: 7 };
    const first = await draw(ctx, logits, vocab, settings, 40);
    const again = await draw(ctx, logits, vocab, settings, 40);
    const other = await draw(ctx, logits, vocab, { ...settings, seed: 8 }, 40);
    expect(again.ids).toEqual(first.ids);
    expect(other.ids).not.toEqual(first.ids);
  });
});
