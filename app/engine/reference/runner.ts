/** The CPU reference as a `ModelRunner`, for tests of generation without a GPU in the loop. */
import type { EncodedImage, ModelRunner, SamplingSettings } from '../model/runner.ts';
import { ReferenceCache, ReferenceModel } from './model.ts';
import { argmaxReference } from './sample.ts';

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

/** Temperature + top-p sampling over the first `vocab` logits; greedy when temperature ≤ 0. */
export function sampleCpu(logits: Float32Array, vocab: number, sampling: SamplingSettings, counter: number): number {
  if (!(sampling.temperature > 0)) return argmaxReference(logits, vocab);
  const max = logits[argmaxReference(logits, vocab)];
  const order = Array.from({ length: vocab }, (_, i) => i);
  const p = order.map((i) => Math.exp((logits[i] - max) / sampling.temperature));
  order.sort((a, b) => p[b] - p[a] || a - b);
  const total = p.reduce((a, b) => a + b, 0);
  let kept = 0;
  let n = 0;
  while (n < vocab && (n === 0 || kept < sampling.topP * total)) kept += p[order[n++]];
  let u = uniformAt(sampling.seed, counter) * kept;
  for (let i = 0; i < n; i++) {
    u -= p[order[i]];
    if (u < 0) return order[i];
  }
  return order[n - 1];
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
