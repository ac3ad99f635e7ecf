/**
 * Generation over a `ModelRunner` from prompt ids: KV-cache reuse across turns, the stop rules,
 * streaming text, abort and timings. Nothing here depends on the GPU.
 */
import { IMAGE_MARKER_ID } from './config.ts';
import { ContextOverflowError } from './errors.ts';
import type { EncodedImage, ModelRunner, SamplingSettings } from './runner.ts';

/** The tokenizer operations generation needs. */
export interface TextCodec {
  encode(text: string): number[];
  /** Decodes ids with the special tokens (ids 0 and 1) skipped. */
  decode(ids: readonly number[]): string;
  /**
   * Starts a streaming decoder for one answer, which ends at a stop id or the stop text. Without
   * it, generation decodes all the answer's ids again after each token.
   */
  stream?(stopText: string, stopIds: readonly number[]): AnswerStream;
}

/** Incremental decoding of one answer (the tokenizer's `StreamingDecoder`). */
export interface AnswerStream {
  /** Adds one id; returns the text it completes and whether the answer ended. */
  push(id: number): { text: string; done: boolean };
  /** Ends the answer and returns the text still held back. */
  finish(): { text: string };
}

export type StopReason = 'eos' | 'stop_text' | 'max_tokens' | 'aborted';

export interface GenerateOptions {
  sampling: SamplingSettings;
  maxNewTokens: number;
  /** Text that ends the answer when it appears in the decoded output (`</s>`). */
  stopText: string;
  signal?: AbortSignal;
  /** Called with each new piece of answer text as soon as it is certain. */
  onText?: (delta: string, tokenCount: number) => void;
  /** Keep the logits row that chose each token (for `--dump-logits`). */
  keepLogits?: boolean;
}

export interface GenerationResult {
  promptIds: number[];
  tokens: number[];
  text: string;
  stopReason: StopReason;
  /** Logits rows [tokens, embeddingSize] when `keepLogits` was set. */
  logits?: Float32Array[];
  timings: { imageEncodeMs: number; prefillMs: number; decodeMs: number; promptTokens: number; generatedTokens: number; decodeTokensPerS: number; firstTokenMs: number };
}

/** Positions a prompt takes once the image marker is expanded. */
export function positionsOf(ids: readonly number[], imageTokens: number): number {
  let n = 0;
  for (const id of ids) n += id === IMAGE_MARKER_ID ? imageTokens : 1;
  return n;
}

/**
 * Runs conversations on one runner, reusing its KV cache: a follow-up prompt that extends the
 * cached sequence only prefills what is new, and the image is encoded once per conversation.
 */
export class Generator {
  /** Ids whose keys and values are in the runner's cache, in order. */
  private cachedIds: number[] = [];
  private image: EncodedImage | undefined;
  private imageKey: unknown;

  constructor(
    readonly runner: ModelRunner,
    readonly codec: TextCodec,
  ) {}

  /** True when the conversation has an encoded photo. */
  get hasImage(): boolean {
    return this.image !== undefined;
  }

  /** Forgets the conversation: the next request starts from an empty cache. */
  reset(): void {
    this.cachedIds = [];
    this.runner.truncate(0);
    this.image?.release();
    this.image = undefined;
    this.imageKey = undefined;
  }

  /**
   * Encodes `pixels` unless the same `key` (the photo, by identity) was encoded already; a new
   * photo starts a new conversation.
   */
  async setImage(key: unknown, pixels: () => Promise<Float32Array>): Promise<number> {
    if (this.image && key === this.imageKey) return 0;
    this.reset();
    const start = performance.now();
    this.image = await this.runner.encodeImage(await pixels());
    this.imageKey = key;
    return performance.now() - start;
  }

  clearImage(): void {
    if (this.image) this.reset();
  }

  async generate(ids: number[], options: GenerateOptions, imageEncodeMs = 0): Promise<GenerationResult> {
    const { runner } = this;
    const { dims } = runner;
    const contextLength = dims.llm.maxSequenceLength;
    if (ids.includes(IMAGE_MARKER_ID) && !this.image) throw new RangeError('The prompt has an image marker, but no image was encoded for this conversation. Call setImage first, or build the prompt without an image.');
    const promptPositions = positionsOf(ids, dims.imageTokens);
    if (promptPositions >= contextLength) throw new ContextOverflowError(promptPositions, contextLength);

    // Reuse the longest cached prefix; at least one id must run to give the next token's logits.
    let shared = 0;
    while (shared < this.cachedIds.length && shared < ids.length - 1 && this.cachedIds[shared] === ids[shared]) shared++;
    runner.truncate(positionsOf(ids.slice(0, shared), dims.imageTokens));
    this.cachedIds = ids.slice(0, shared);

    const tokens: number[] = [];
    const logits: Float32Array[] = [];
    const vocab = dims.llm.vocabSize;
    let emitted = '';
    let text = '';
    let stopReason: StopReason = 'max_tokens';
    let firstTokenMs = 0;
    let prefillMs = 0;
    const start = performance.now();

    const stream = this.codec.stream?.(options.stopText, dims.llm.eosTokenIds);
    const pending = ids.slice(shared);
    let input = pending;
    for (let step = 0; step < options.maxNewTokens; step++) {
      if (options.signal?.aborted) {
        stopReason = 'aborted';
        break;
      }
      if (runner.length + positionsOf(input, dims.imageTokens) > contextLength) break; // max_tokens: the context is full
      const stepStart = performance.now();
      const out = await runner.step(input, this.image, options.sampling, step, options.keepLogits);
      this.cachedIds.push(...input);
      if (step === 0) {
        prefillMs = performance.now() - stepStart;
        firstTokenMs = performance.now() - start;
      }
      if (out.token < 0 || out.token >= vocab) throw new RangeError(`The sampler returned token ${out.token}, outside the vocabulary of ${vocab}.`);
      if (out.logits) logits.push(out.logits);
      tokens.push(out.token);
      if (stream) {
        const piece = stream.push(out.token);
        if (piece.text) {
          text += piece.text;
          options.onText?.(piece.text, tokens.length);
        }
        if (piece.done) {
          stopReason = dims.llm.eosTokenIds.includes(out.token) ? 'eos' : 'stop_text';
          break;
        }
        input = [out.token];
        continue;
      }
      if (dims.llm.eosTokenIds.includes(out.token)) {
        stopReason = 'eos';
        break;
      }

      text = this.codec.decode(tokens.slice());
      const cut = text.indexOf(options.stopText);
      if (cut >= 0) {
        text = text.slice(0, cut);
        stopReason = 'stop_text';
        this.emit(options, text, emitted, tokens.length, true);
        emitted = text;
        break;
      }
      emitted = this.emit(options, text, emitted, tokens.length, false);
      input = [out.token];
    }
    if (stream) {
      const rest = stream.finish().text;
      if (rest) {
        text += rest;
        options.onText?.(rest, tokens.length);
      }
    } else if (stopReason !== 'stop_text') {
      // The stop token is not part of the answer.
      const answerIds = stopReason === 'eos' ? tokens.slice(0, -1) : tokens;
      text = this.codec.decode(answerIds);
      this.emit(options, text, emitted, tokens.length, true);
    }

    const decodeMs = performance.now() - start - prefillMs;
    const decoded = Math.max(0, tokens.length - 1);
    return {
      promptIds: ids,
      tokens,
      text,
      stopReason,
      logits: options.keepLogits ? logits : undefined,
      timings: {
        imageEncodeMs,
        prefillMs,
        decodeMs,
        promptTokens: promptPositions,
        generatedTokens: tokens.length,
        decodeTokensPerS: decoded > 0 && decodeMs > 0 ? (decoded * 1000) / decodeMs : 0,
        firstTokenMs,
      },
    };
  }

  /**
   * Sends the part of `text` after `emitted` that can no longer change: a trailing U+FFFD (an
   * incomplete UTF-8 sequence) or a tail that could start the stop text is held back until `final`.
   */
  private emit(options: GenerateOptions, text: string, emitted: string, tokenCount: number, final: boolean): string {
    let ready = text;
    if (!final) {
      while (ready.endsWith('\uFFFD')) ready = ready.slice(0, -1);
      for (let k = Math.min(options.stopText.length - 1, ready.length); k > 0; k--) {
        if (options.stopText.startsWith(ready.slice(-k))) {
          ready = ready.slice(0, -k);
          break;
        }
      }
    }
    if (!ready.startsWith(emitted)) return emitted; // earlier text changed on re-decoding; wait for the end
    if (ready.length > emitted.length) options.onText?.(ready.slice(emitted.length), tokenCount);
    return ready.length > emitted.length ? ready : emitted;
  }
}
