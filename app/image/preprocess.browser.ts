/** `preprocessImage` in the browser (page or worker): image → Float32Array [3, size, size]. */
import type { ImagePreprocessConfig } from '../checkpoint/manifest.ts';
import { decodeImage } from './decode.browser.ts';
import { preprocessDecoded } from './preprocess.ts';

/**
 * Decodes an image (Blob, File or bytes) and returns the normalised pixels, channels first.
 * `file` names the input in error messages. Throws ImageDecodeError for unreadable input.
 */
export async function preprocessImage(
  input: Blob | Uint8Array,
  config: ImagePreprocessConfig,
  file?: string,
): Promise<Float32Array> {
  return preprocessDecoded(await decodeImage(input, file), config);
}
