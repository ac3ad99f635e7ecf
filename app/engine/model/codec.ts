/** The package's tokenizer as a `TextCodec`, through `@huggingface/tokenizers`. */
import { Tokenizer } from '@huggingface/tokenizers';
import type { TextCodec } from './generator.ts';

/**
 * Builds the codec from `tokenizer.json` text. No BOS is added; decoding skips special tokens
 * (ids 0 and 1 for OLMo's tokenizer).
 * NOTE: a stand-in until the project's tokenizer module (app/tokenizer) lands; switch to it then.
 */
export function createCodec(tokenizerJson: string): TextCodec {
  const json = JSON.parse(tokenizerJson) as object;
  const tokenizer = new Tokenizer(json, {});
  return {
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    decode: (ids) => tokenizer.decode(ids.slice(), { skip_special_tokens: true }),
  };
}
