/** What the image harness returns to the spec; byte arrays travel as base64. */
import { DEFAULT_IMAGE_PREPROCESS } from '../../app/checkpoint/manifest.ts';
import { decodeImage } from '../../app/image/decode.browser.ts';
import { preprocessImage } from '../../app/image/preprocess.browser.ts';
import { fitToModel, toUprightRgb } from '../../app/image/preprocess.ts';

export interface HarnessResult {
  width: number;
  height: number;
  /** 8-bit RGB after padding, resize and crop. */
  pixels: string;
  /** Float32Array [3, size, size] bytes. */
  tensor: string;
  /** The decoder's raw output, before orientation and alpha. */
  decoded: { width: number; height: number; orientation: number; rgba: string };
  inWorker: boolean;
}

export interface HarnessError {
  error: { name: string; message: string };
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** Fetches `url` and preprocesses it as the app does; errors come back as data. */
export async function runPreprocess(url: string, file: string, inWorker: boolean): Promise<HarnessResult | HarnessError> {
  try {
    const blob = await (await fetch(url)).blob();
    const decoded = await decodeImage(blob, file);
    const pixels = fitToModel(toUprightRgb(decoded, DEFAULT_IMAGE_PREPROCESS.background), DEFAULT_IMAGE_PREPROCESS);
    const tensor = await preprocessImage(blob, DEFAULT_IMAGE_PREPROCESS, file);
    return {
      width: pixels.width,
      height: pixels.height,
      pixels: toBase64(pixels.data),
      tensor: toBase64(new Uint8Array(tensor.buffer)),
      decoded: {
        width: decoded.width,
        height: decoded.height,
        orientation: decoded.orientation,
        rgba: toBase64(new Uint8Array(decoded.rgba.buffer, decoded.rgba.byteOffset, decoded.rgba.byteLength)),
      },
      inWorker,
    };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    return { error: { name, message } };
  }
}
