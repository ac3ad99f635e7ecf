/**
 * The interface between generation and a model implementation. The GPU engine implements it for
 * real use, and the CPU reference implements it for tests of the generation logic.
 */
import type { ModelDims } from './config.ts';

export interface SamplingSettings {
  /** 0 or less is greedy (argmax, ties to the lowest id). */
  temperature: number;
  /** Nucleus mass kept, in (0, 1]. */
  topP: number;
  /** u32 seed of the request. */
  seed: number;
}

/** Image embeddings [imageTokens, dModel] held by the runner (on the GPU for the GPU engine). */
export interface EncodedImage {
  readonly tokens: number;
  release(): void;
}

export interface ModelRunner {
  readonly dims: ModelDims;
  /** Positions held in the KV cache. */
  readonly length: number;
  /** Runs the vision tower and projector once; the result can be spliced into any later prompt. */
  encodeImage(pixels: Float32Array): Promise<EncodedImage>;
  /**
   * Appends `ids` (with IMAGE_MARKER_ID where `image` goes) at positions length.., then samples
   * the next token from the last position's logits. `sampleIndex` counts tokens sampled so far
   * in the request (the random stream's counter). With `logits` set, also returns the raw logits
   * that chose the token (all embedding rows, before masking), which costs a second readback.
   */
  step(ids: readonly number[], image: EncodedImage | undefined, sampling: SamplingSettings, sampleIndex: number, logits?: boolean): Promise<{ token: number; logits?: Float32Array }>;
  /** Drops cache positions from `length` on, so a follow-up turn reuses the shared prefix. */
  truncate(length: number): void;
  /** Releases GPU resources. */
  destroy(): void;
}
