/**
 * Streaming decode of generated ids into text pieces that are safe to show at once:
 *
 * - a character split over several byte-level tokens is held until its last byte arrives, so no
 *   piece contains half a UTF-8 sequence;
 * - `<|endoftext|>` and `<|padding|>` produce no text;
 * - generation stops on a stop id (by default the EOS ids 50279 and 0) or when the text contains the stop text (`</s>`),
 *   which is cut off together with everything after it;
 * - text that could be the start of the stop text (`<`, `</`, `</s`) is held until the next
 *   token decides, so no part of a stop text ever reaches the reader;
 * - nothing is trimmed.
 */
import { EOS_ID, ENDOFTEXT_ID, type TextTokenizer } from './tokenizer.ts';

export interface StreamingDecoderOptions {
  /** Text that ends the answer when it appears, usually `ChatTemplate.stopText`. Defaults to `</s>`, and an empty string disables it. */
  stopText?: string;
  /** Ids that end the answer. Defaults to the model's EOS ids, 50279 and 0. */
  stopIds?: readonly number[];
}

export interface DecodeStep {
  /** New text to append to the answer. It is empty while a character or a possible stop text is incomplete. */
  text: string;
  /** True once a stop id or the stop text has been seen. A later `push` call throws. */
  done: boolean;
}

export class StreamingDecoder {
  private readonly utf8 = new TextDecoder('utf-8');
  private readonly stopText: string;
  private readonly stopIds: ReadonlySet<number>;
  /** Decoded text not yet handed out, because it may begin the stop text. */
  private held = '';
  private emitted = '';
  private finished = false;

  constructor(
    private readonly tokenizer: TextTokenizer,
    options: StreamingDecoderOptions = {},
  ) {
    this.stopText = options.stopText ?? '</s>';
    this.stopIds = new Set(options.stopIds ?? [EOS_ID, ENDOFTEXT_ID]);
  }

  /** The whole answer handed out so far. */
  get text(): string {
    return this.emitted;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Adds one generated id and returns the text it completes. */
  push(id: number): DecodeStep {
    if (this.finished) {
      throw new Error(`StreamingDecoder received id ${id} after the answer ended. Start a new decoder for a new answer.`);
    }
    if (this.stopIds.has(id)) return this.finish();
    if (this.tokenizer.skippedIds.has(id)) return { text: '', done: false };

    this.held += this.utf8.decode(this.tokenizer.bytesOf(id), { stream: true });

    const stopAt = this.stopText ? this.held.indexOf(this.stopText) : -1;
    if (stopAt >= 0) {
      this.finished = true;
      return this.emit(this.held.slice(0, stopAt), true);
    }
    const keep = this.possibleStopPrefixLength();
    const ready = this.held.slice(0, this.held.length - keep);
    this.held = this.held.slice(this.held.length - keep);
    return this.emit(ready, false);
  }

  /**
   * Ends the answer (a stop id, or the caller's token limit) and returns the text still held:
   * a possible start of the stop text that never completed, and any incomplete UTF-8 sequence
   * as U+FFFD.
   */
  finish(): DecodeStep {
    if (this.finished) return { text: '', done: true };
    this.finished = true;
    return this.emit(this.held + this.utf8.decode(), true);
  }

  /** Length of the longest end of `held` that is a proper start of the stop text. */
  private possibleStopPrefixLength(): number {
    const max = Math.min(this.stopText.length - 1, this.held.length);
    for (let length = max; length > 0; length--) {
      if (this.held.endsWith(this.stopText.slice(0, length))) return length;
    }
    return 0;
  }

  private emit(text: string, done: boolean): DecodeStep {
    if (done) this.held = '';
    this.emitted += text;
    return { text, done };
  }
}
