/** `preprocessImage` under Node: file bytes → the vision tower's Float32Array [3, size, size]. */
import { readFile } from 'node:fs/promises';

import type { ImagePreprocessConfig } from '../checkpoint/manifest.ts';
import { decodeImage } from './decode.node.ts';
import { ImageDecodeError } from './errors.ts';
import { fitToModel, preprocessDecoded, toUprightRgb, type RgbImage } from './preprocess.ts';

async function readBytes(input: Uint8Array | Blob): Promise<Uint8Array> {
  return input instanceof Uint8Array ? input : new Uint8Array(await input.arrayBuffer());
}

/**
 * Decodes a PNG or JPEG (bytes or Blob) and returns the normalised pixels, channels first.
 * `file` names the input in error messages. Throws ImageDecodeError for unreadable input.
 */
export async function preprocessImage(
  input: Uint8Array | Blob,
  config: ImagePreprocessConfig,
  file = 'image',
): Promise<Float32Array> {
  return preprocessDecoded(await decodeImage(await readBytes(input), file), config);
}

/** Decodes and fits an image like `preprocessImage` but stops before normalising: 8-bit RGB. */
export async function imageToModelPixels(
  input: Uint8Array | Blob,
  config: ImagePreprocessConfig,
  file = 'image',
): Promise<RgbImage> {
  const decoded = await decodeImage(await readBytes(input), file);
  return fitToModel(toUprightRgb(decoded, config.background), config);
}

/** Reads an image file from disk and preprocesses it; errors name `path`. */
export async function preprocessImageFile(path: string, config: ImagePreprocessConfig): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ImageDecodeError(
      path,
      code === 'ENOENT' ? 'the file was not found' : `the file could not be read (${code ?? String(error)})`,
      'Check the path and try again.',
      { cause: error },
    );
  }
  return preprocessImage(bytes, config, path);
}
