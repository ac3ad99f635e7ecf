/** The CPU reference as a `ModelRunner`, for tests of generation without a GPU in the loop. */
import type { EncodedImage, ModelRunner, SamplingSettings } from '../model/runner.ts';
import { ReferenceCache, ReferenceModel } from './model.ts';
import { argmaxReference, topPDistribution } from './sample.ts';

class ReferenceImage implements EncodedImage {
  constructor(readonly embeddings: Float32Array, readonly tokens: number) {}
  release(): void {}
}

/** Uniform number in [0, 1) from (seed, counter): a stateless hash, so a step can be replayed. */
export function uniformAt(seed: number, counter: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(counter + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/**
 * Draws an id below `vocab` from the distribution the GPU sampler uses (`topPDistribution`), or
 * takes the argmax when temperature ≤ 0. The draw uses `uniformAt`, not the GPU's hash, so the
 * ids differ from the GPU runner's.
 */
export function sampleCpu(logits: Float32Array, vocab: number, sampling: SamplingSettings, counter: number): number {
  if (!(sampling.temperature > 0)) return argmaxReference(logits, vocab);
  const { ids, probabilities } = topPDistribution(logits, vocab, sampling.temperature, sampling.topP);
  let u = uniformAt(sampling.seed, counter);
  for (let i = 0; i < ids.length; i++) {
    u -= probabilities[i];
    if (u < 0) return ids[i];
  }
  return ids[ids.length - 1];
}

export class ReferenceRunner implements ModelRunner {
  private cache: ReferenceCache;

  constructor(readonly model: ReferenceModel) {
    this.cache = new ReferenceCache(model.dims);
  }

  get dims() {
    return this.model.dims;
  }

  get length(): number {
    return this.cache.length;
  }

  async encodeImage(pixels: Float32Array): Promise<EncodedImage> {
    return new ReferenceImage(this.model.encodeImage(pixels), this.dims.imageTokens);
  }

  async step(ids: readonly number[], image: EncodedImage | undefined, sampling: SamplingSettings, sampleIndex: number, logits?: boolean) {
    const x = this.model.embed(ids, (image as ReferenceImage | undefined)?.embeddings);
    const all = this.model.forward(x, this.cache);
    const row = all.slice(all.length - this.dims.llm.embeddingSize);
    return { token: sampleCpu(row, this.dims.llm.vocabSize, sampling, sampleIndex), logits: logits ? row : undefined };
  }

  truncate(length: number): void {
    // Positions past `length` are overwritten by the next step, so only the count changes.
    this.cache.length = Math.min(this.cache.length, length);
  }

  destroy(): void {}
}
