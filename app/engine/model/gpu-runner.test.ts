// The GPU runner against the CPU reference on the exact-quantization test package. Text rows
// quantize exactly in any precision, so the two sets of logits agree to float rounding. Greedy
// tokens are compared only at steps where the reference's top-2 margin is clear of that rounding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TensorSource } from '../../checkpoint/manifest.ts';
import type { GpuContext } from '../gpu/context.ts';
import { testContext } from '../../test/gpu.ts';
import { ReferenceCache, ReferenceModel, type ReferenceTrace } from '../reference/model.ts';
import { argmaxReference } from '../reference/sample.ts';
import { IMAGE_MARKER_ID } from './config.ts';
import { ContextOverflowError } from './errors.ts';
import { Generator, type TextCodec } from './generator.ts';
import { createGpuRunner, type GpuRunner } from './gpu-runner.ts';
import type { SamplingSettings } from './runner.ts';
import { buildTestPackage, testPixels, TINY_SHAPE } from './test-package.ts';

const greedy: SamplingSettings = { temperature: 0, topP: 1, seed: 0 };

/** Id i ↦ one character (ids 0 and 1 are special and decode to nothing). */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz .?';
const codec: TextCodec = {
  encode: (text) => Array.from(text, (c) => 2 + ALPHABET.indexOf(c)),
  decode: (ids) => ids.filter((id) => id > 1).map((id) => ALPHABET[(id - 2) % ALPHABET.length]).join(''),
};

function std(values: Float32Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let s = 0;
  for (const v of values) s += (v - mean) ** 2;
  return Math.sqrt(s / values.length);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Difference between the largest and second-largest of the first `vocab` values. */
function topMargin(row: Float32Array, vocab: number): number {
  const best = argmaxReference(row, vocab);
  let second = -Infinity;
  for (let i = 0; i < vocab; i++) if (i !== best) second = Math.max(second, row[i]);
  return row[best] - second;
}

// Tolerance on logits: 1e-3 of their standard deviation. Text rows quantize exactly, so only f32
// rounding in the norms, attention and the head is left; a flipped int8 code would pass it.
const LOGIT_TOL = 1e-3;

describe('GPU runner', () => {
  let ctx: GpuContext;
  let source: TensorSource;
  let model: ReferenceModel;
  let runner: GpuRunner;

  beforeAll(async () => {
    ctx = await testContext();
    source = buildTestPackage();
    model = await ReferenceModel.load(source);
    runner = await createGpuRunner(ctx, source, { prefillChunk: 8 });
  });
  afterAll(() => runner?.destroy());

  it('matches reference logits and greedy tokens', async () => {
    runner.truncate(0);
    const prompt = [5, 17, 33, 2, 90, 150, 7, 61, 88, 120, 3]; // 11 ids: two prefill chunks of 8
    const { vocabSize } = model.dims.llm;
    const cache = new ReferenceCache(model.dims);
    let all: Float32Array = model.forward(model.embed(prompt), cache);
    let expected: Float32Array = all.slice(all.length - model.dims.llm.embeddingSize);
    let input = prompt;
    for (let step = 0; step < 6; step++) {
      const out = await runner.step(input, undefined, greedy, step, true);
      const tol = LOGIT_TOL * std(expected);
      expect(maxDiff(out.logits!, expected), `step ${step}`).toBeLessThan(tol);
      const margin = topMargin(expected, vocabSize);
      if (margin > 10 * tol) expect(out.token, `step ${step}`).toBe(argmaxReference(expected, vocabSize));
      input = [out.token];
      all = model.forward(model.embed(input), cache);
      expected = all;
    }
    expect(runner.length).toBe(prompt.length + 5);
  });

  it('matches reference image embeddings and spliced prefill', async () => {
    runner.truncate(0);
    const pixels = testPixels(TINY_SHAPE.imageSize);
    const image = await runner.encodeImage(pixels);
    const expectedImage = model.encodeImage(pixels);
    const gpuImage = new Float32Array(await ctx.read((image as unknown as { buffer: GPUBuffer }).buffer));
    // Vision tower and projector in f32 against doubles, no quantization: 1e-4 of the std.
    expect(maxDiff(gpuImage, expectedImage)).toBeLessThan(1e-4 * std(expectedImage));

    // The language model fed the GPU's own image embeddings in the reference, so only it is compared.
    const prompt = [4, 9, IMAGE_MARKER_ID, 12, 40];
    const out = await runner.step(prompt, image, greedy, 0, true);
    const all = model.forward(model.embed(prompt, gpuImage), new ReferenceCache(model.dims));
    const expected = all.slice(all.length - model.dims.llm.embeddingSize);
    expect(maxDiff(out.logits!, expected)).toBeLessThan(LOGIT_TOL * std(expected));
    expect(runner.length).toBe(4 + model.dims.imageTokens);
    image.release();
  });

  it('follow-up equals full prefill', async () => {
    runner.truncate(0);
    const first = [8, 16, 24, 32, 40, 48];
    const a = await runner.step(first, undefined, greedy, 0);
    const b = await runner.step([a.token], undefined, greedy, 1);
    const followUp = [b.token, 70, 71, 72];
    const cached = await runner.step(followUp, undefined, greedy, 0, true);

    runner.truncate(0);
    const fresh = await runner.step([...first, a.token, ...followUp], undefined, greedy, 0, true);
    expect(maxDiff(cached.logits!, fresh.logits!)).toBeLessThan(LOGIT_TOL * std(fresh.logits!));
    expect(cached.token).toBe(fresh.token);
  });

  it('same seed, same sampled tokens', async () => {
    const sampling: SamplingSettings = { temperature: 1.5, topP: 0.9, seed: 1234 };
    const run = async (s: SamplingSettings) => {
      runner.truncate(0);
      const tokens: number[] = [];
      let input = [30, 31, 32];
      for (let i = 0; i < 8; i++) {
        const { token } = await runner.step(input, undefined, s, i);
        expect(token).toBeLessThan(TINY_SHAPE.vocabSize);
        tokens.push(token);
        input = [token];
      }
      return tokens;
    };
    const once = await run(sampling);
    expect(await run(sampling)).toEqual(once);
    const others: string[] = [];
    for (const seed of [1, 2, 3]) others.push((await run({ ...sampling, seed })).join());
    expect(others.some((t) => t !== once.join())).toBe(true);
  });

  it('rejects context overflow', async () => {
    runner.truncate(0);
    const ids = Array.from({ length: TINY_SHAPE.maxSequenceLength + 1 }, (_, i) => 2 + (i % 50));
    await expect(runner.step(ids, undefined, greedy, 0)).rejects.toBeInstanceOf(ContextOverflowError);
    expect(runner.length).toBe(0);
  });
  it('matches each block on reference input', async () => {
    const ids = [9, 10, 11, 12, 13];
    const trace: ReferenceTrace = { blockInputs: [] };
    model.forward(model.embed(ids), new ReferenceCache(model.dims), trace);
    for (let block = 0; block < model.dims.llm.nLayers; block++) {
      const input = trace.blockInputs[block];
      const expected = model.block(block, input, new ReferenceCache(model.dims));
      const gpu = await runner.blockOutput(block, input);
      expect(maxDiff(gpu, expected), `block ${block}`).toBeLessThan(1e-4 * std(expected));
    }
    runner.truncate(0);
  });

  it('dense f16 weights give the same logits', async () => {
    const dense = await createGpuRunner(ctx, source, { dense: true, prefillChunk: 8 });
    try {
      runner.truncate(0);
      const prompt = [40, 41, 42, 43, 44, 45, 46, 47, 48, 49];
      const a = await runner.step(prompt, undefined, greedy, 0, true);
      const b = await dense.step(prompt, undefined, greedy, 0, true);
      expect(maxDiff(a.logits!, b.logits!)).toBeLessThan(LOGIT_TOL * std(a.logits!));
      expect(b.token).toBe(a.token);
    } finally {
      dense.destroy();
    }
  });

  it('abort, then generate normally', async () => {
    const options = { sampling: greedy, maxNewTokens: 12, stopText: '</s>' };
    const fresh = await new Generator(runner, codec).generate(codec.encode('abc'), options);
    expect(fresh.tokens.length).toBeGreaterThan(1);

    const generator = new Generator(runner, codec);
    const controller = new AbortController();
    const aborted = await generator.generate(codec.encode('hello there'), {
      ...options,
      signal: controller.signal,
      onText: () => controller.abort(),
    });
    expect(aborted.stopReason).toBe('aborted');
    expect(aborted.tokens.length).toBeLessThan(12);
    generator.reset();
    const again = await generator.generate(codec.encode('abc'), options);
    expect(again.tokens).toEqual(fresh.tokens);
  });
  it('split embedding gives the same logits', async () => {
    // Chunks of 64 rows: the gather and the tied head each run over four embedding buffers.
    const split = await createGpuRunner(ctx, source, { maxChunkBytes: 64 * model.dims.llm.dModel * 2, prefillChunk: 8 });
    try {
      expect(split.weights.embedding.length).toBe(4);
      runner.truncate(0);
      const prompt = [3, 70, 140, 205, 199, 64, 128];
      const a = await runner.step(prompt, undefined, greedy, 0, true);
      const b = await split.step(prompt, undefined, greedy, 0, true);
      expect(maxDiff(a.logits!, b.logits!)).toBe(0);
      expect(b.token).toBe(a.token);
    } finally {
      split.destroy();
    }
  });
  it('clip_qkv and RMSNorm match the reference', async () => {
    for (const shape of [{ ...TINY_SHAPE, clipQkv: 4 }, { ...TINY_SHAPE, layerNormType: 'rms' as const }]) {
      const variant = buildTestPackage(shape, 3);
      const reference = await ReferenceModel.load(variant);
      const gpu = await createGpuRunner(ctx, variant, { prefillChunk: 8 });
      try {
        const prompt = [21, 22, 23, 24, 25];
        const out = await gpu.step(prompt, undefined, greedy, 0, true);
        const all = reference.forward(reference.embed(prompt), new ReferenceCache(reference.dims));
        const expected = all.slice(all.length - reference.dims.llm.embeddingSize);
        expect(maxDiff(out.logits!, expected), JSON.stringify({ clip: shape.clipQkv, norm: shape.layerNormType })).toBeLessThan(LOGIT_TOL * std(expected));
      } finally {
        gpu.destroy();
      }
    }
  });
});
