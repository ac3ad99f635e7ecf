/**
 * OLMo's GPT-NeoX-20B byte-level BPE tokenizer, loaded from `tokenizer.json` text with
 * `@huggingface/tokenizers`. No BOS token is added: OLMo prompts start with the text itself.
 */
import { Tokenizer } from '@huggingface/tokenizers';

/** `<|endoftext|>`: skipped when decoding, and a stop token. */
export const ENDOFTEXT_ID = 0;
/** `|||IP_ADDRESS|||`, the model's EOS id. */
export const EOS_ID = 50279;

/** `tokenizer.json` is missing, not JSON, or not a byte-level BPE tokenizer. */
export class TokenizerLoadError extends Error {
  override name = 'TokenizerLoadError';
  constructor(source: string, problem: string, options?: { cause?: unknown }) {
    super(
      `Cannot load the tokenizer from ${source}: ${problem}. ` +
        "Use the model package's tokenizer.json (the GPT-NeoX-20B byte-level BPE of OLMo).",
      options,
    );
  }
}

/**
 * Builds the inverse of the byte-level alphabet of GPT-2 style BPE, as a map from character
 * code to byte. The alphabet gives every byte a printable character: each printable Latin-1
 * byte maps to itself, and the other bytes map to U+0100 onwards in byte order.
 */
function byteLevelDecodeTable(): Map<number, number> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table = new Map<number, number>();
  for (const b of printable) table.set(b, b);
  let next = 0x100;
  for (let b = 0; b < 256; b++) {
    if (!table.has(b)) table.set(next++, b);
  }
  return table;
}

const BYTE_OF_CHAR = byteLevelDecodeTable();
const utf8 = new TextEncoder();

export class TextTokenizer {
  /** Ids decoding skips: the special tokens `<|endoftext|>` and `<|padding|>`. */
  readonly skippedIds: ReadonlySet<number>;
  /** Token ids run from 0 to vocabSize − 1. */
  readonly vocabSize: number;
  private readonly tokenBytes = new Map<number, Uint8Array>();

  private constructor(private readonly tokenizer: Tokenizer) {
    this.vocabSize = tokenizer.get_vocab(true).size;
    this.skippedIds = new Set(
      [...tokenizer.get_added_tokens_decoder()].filter(([, token]) => token.special).map(([id]) => id),
    );
  }

  /** Builds the tokenizer from `tokenizer.json` text. `source` names the file in errors. */
  static fromJson(text: string, source = 'tokenizer.json'): TextTokenizer {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new TokenizerLoadError(source, `it is not valid JSON (${(error as Error).message})`, { cause: error });
    }
    const model = (json as { model?: { type?: string } } | null)?.model;
    if (model?.type !== 'BPE') {
      throw new TokenizerLoadError(source, `its model type is ${JSON.stringify(model?.type)}, expected "BPE"`);
    }
    try {
      return new TextTokenizer(new Tokenizer(json as object, {}));
    } catch (error) {
      throw new TokenizerLoadError(source, (error as Error).message, { cause: error });
    }
  }

  /** Tokenizes `text` with no special tokens added. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Decodes `ids` to text, skipping `<|endoftext|>` and `<|padding|>`, with no clean-up of spaces. */
  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(
      ids.filter((id) => !this.skippedIds.has(id)),
      { skip_special_tokens: true, clean_up_tokenization_spaces: false },
    );
  }

  /**
   * Returns the UTF-8 bytes that token `id` represents. A token need not contain whole
   * characters, because an emoji is often split over two or three tokens. Added tokens whose
   * text is not in the byte-level alphabet (the runs of spaces) represent their own UTF-8, as
   * Hugging Face's ByteLevel decoder treats them.
   */
  bytesOf(id: number): Uint8Array {
    let bytes = this.tokenBytes.get(id);
    if (bytes) return bytes;
    const token = Number.isInteger(id) ? this.tokenizer.id_to_token(id) : undefined;
    if (token === undefined) {
      throw new RangeError(`Token id ${id} is outside the vocabulary (0 to ${this.vocabSize - 1}).`);
    }
    const mapped: number[] = [];
    for (const char of token) {
      const byte = BYTE_OF_CHAR.get(char.codePointAt(0)!);
      if (byte === undefined) {
        mapped.length = 0;
        break;
      }
      mapped.push(byte);
    }
    bytes = mapped.length > 0 || token.length === 0 ? Uint8Array.from(mapped) : utf8.encode(token);
    this.tokenBytes.set(id, bytes);
    return bytes;
  }
}
