/** The package's tokenizer as the `TextCodec` generation uses. */
import { StreamingDecoder } from '../../tokenizer/stream.ts';
import { TextTokenizer } from '../../tokenizer/tokenizer.ts';
import type { TextCodec } from './generator.ts';

/**
 * Builds the codec from `tokenizer.json` text: no BOS is added, decoding skips the special tokens
 * (ids 0 and 1 for OLMo's tokenizer), and answers stream through the tokenizer's `StreamingDecoder`.
 */
export function createCodec(tokenizerJson: string, source = 'tokenizer.json'): TextCodec {
  const tokenizer = TextTokenizer.fromJson(tokenizerJson, source);
  return {
    encode: (text) => tokenizer.encode(text),
    decode: (ids) => tokenizer.decode(ids),
    stream: (stopText, stopIds) => new StreamingDecoder(tokenizer, { stopText, stopIds }),
  };
}
