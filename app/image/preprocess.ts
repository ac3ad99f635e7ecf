/**
 * Image preprocessing shared by Node and the browser: from decoded RGBA pixels to the vision
 * tower's input, as LLaVA-1.5 prepares it for CLIP.
 *
 * 1. Apply the EXIF orientation and composite alpha on the background colour:
 *    `round((a·c + (255 − a)·bg) / 255)`.
 * 2. `aspect: 'pad'`: paste the image on a square of the background colour at
 *    `floor(difference / 2)` (LLaVA's `expand2square`).
 * 3. Resize so the shorter side is `size` with Pillow's bicubic filter (`resample.ts`), the
 *    longer side `trunc(size · long / short)` as Hugging Face's CLIP image processor computes
 *    it, then crop the centre `size` × `size` at `floor((side − size) / 2)`.
 * 4. Scale to [0, 1], normalise with `mean` and `std`, channels first: Float32Array [3, size, size].
 *
 * The decoders (`decode.node.ts`, `decode.browser.ts`) produce the `DecodedImage` this starts from.
 */
import type { ImagePreprocessConfig } from '../checkpoint/manifest.ts';
import { ImageDecodeError } from './errors.ts';
import { resizeBicubic, type RgbImage } from './resample.ts';

export type { RgbImage } from './resample.ts';

/** Decoded pixels before orientation and alpha are applied. */
export interface DecodedImage {
  width: number;
  height: number;
  /** 8-bit RGBA with straight (not premultiplied) alpha, row-major. */
  rgba: Uint8Array | Uint8ClampedArray;
  /** EXIF orientation 1–8 still to apply; 1 when there is none. */
  orientation: number;
}

/**
 * Largest image accepted, in pixels (about 8000 × 6000). Decoding needs 4 bytes a pixel at
 * once, so this bounds memory at about 200 MB.
 */
export const MAX_IMAGE_PIXELS = 50_000_000;

/** Largest side accepted, in pixels; it bounds the resize's temporary rows. */
export const MAX_IMAGE_SIDE = 20_000;

/** Throws ImageDecodeError when a `width` × `height` image is empty or over the size limits. */
export function checkImageSize(width: number, height: number, file: string): void {
  if (!(width >= 1 && height >= 1)) {
    throw new ImageDecodeError(file, `its size is ${width}×${height} pixels, so it has no pixels`);
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw new ImageDecodeError(
      file,
      `it is ${width}×${height} pixels, over the limit of ${MAX_IMAGE_SIDE} pixels a side and ` +
        `${MAX_IMAGE_PIXELS / 1e6} megapixels`,
      'Scale it down (the model sees it at 336×336 anyway) and try again.',
    );
  }
}

/** Returns the upright width and height: orientations 5–8 swap the sides. */
function orientedSize(width: number, height: number, orientation: number): [number, number] {
  return orientation >= 5 ? [height, width] : [width, height];
}

/**
 * Returns the index of the source pixel that lands at (x, y) of the upright image. The EXIF
 * orientations are applied as Pillow's `ImageOps.exif_transpose` applies them: 2 mirror,
 * 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90°
 * counter-clockwise.
 */
function sourceIndex(x: number, y: number, width: number, height: number, orientation: number): number {
  switch (orientation) {
    case 2:
      return y * width + (width - 1 - x);
    case 3:
      return (height - 1 - y) * width + (width - 1 - x);
    case 4:
      return (height - 1 - y) * width + x;
    case 5:
      return x * width + y;
    case 6:
      return (height - 1 - x) * width + y;
    case 7:
      return (height - 1 - x) * width + (width - 1 - y);
    case 8:
      return x * width + (width - 1 - y);
    default:
      return y * width + x;
  }
}

/** Applies the EXIF orientation and composites alpha on `background`, giving upright 8-bit RGB. */
export function toUprightRgb(decoded: DecodedImage, background: readonly [number, number, number]): RgbImage {
  const { width, height, rgba } = decoded;
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`Decoded image ${width}×${height} has ${rgba.length} bytes, expected ${width * height * 4}.`);
  }
  const orientation = Number.isInteger(decoded.orientation) && decoded.orientation >= 1 && decoded.orientation <= 8
    ? decoded.orientation
    : 1;
  const [outWidth, outHeight] = orientedSize(width, height, orientation);
  const data = new Uint8Array(outWidth * outHeight * 3);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const s = (orientation === 1 ? y * width + x : sourceIndex(x, y, width, height, orientation)) * 4;
      const o = (y * outWidth + x) * 3;
      const a = rgba[s + 3]!;
      if (a === 255) {
        data[o] = rgba[s]!;
        data[o + 1] = rgba[s + 1]!;
        data[o + 2] = rgba[s + 2]!;
      } else {
        // (a·c + (255 − a)·bg) / 255 is never exactly halfway between integers, so
        // floor((2n + 255) / 510) rounds it to nearest.
        for (let c = 0; c < 3; c++) {
          const numerator = a * rgba[s + c]! + (255 - a) * background[c]!;
          data[o + c] = Math.floor((2 * numerator + 255) / 510);
        }
      }
    }
  }
  return { width: outWidth, height: outHeight, data };
}

/**
 * Pads (for `aspect: 'pad'`), resizes and centre-crops upright RGB to a square of side
 * `config.size`. The result is the 8-bit image that is normalized for the vision tower.
 */
export function fitToModel(image: RgbImage, config: ImagePreprocessConfig): RgbImage {
  const { size, background } = config;
  let canvasWidth = image.width;
  let canvasHeight = image.height;
  if (config.aspect === 'pad') {
    canvasWidth = canvasHeight = Math.max(image.width, image.height);
  }
  const left = Math.floor((canvasWidth - image.width) / 2);
  const top = Math.floor((canvasHeight - image.height) / 2);

  const short = Math.min(canvasWidth, canvasHeight);
  const long = Math.max(canvasWidth, canvasHeight);
  const resizedLong = Math.trunc((size * long) / short);
  const outWidth = canvasWidth <= canvasHeight ? size : resizedLong;
  const outHeight = canvasWidth <= canvasHeight ? resizedLong : size;
  const crop = {
    left: Math.floor((outWidth - size) / 2),
    top: Math.floor((outHeight - size) / 2),
    width: size,
    height: size,
  };
  const canvas = { image, width: canvasWidth, height: canvasHeight, left, top, background };
  return resizeBicubic(canvas, outWidth, outHeight, crop);
}

/** Scales 8-bit RGB to [0, 1] and normalises it with `mean` and `std`, channels first. */
export function normalize(image: RgbImage, config: Pick<ImagePreprocessConfig, 'mean' | 'std'>): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = config.mean[c]!;
    const std = config.std[c]!;
    // One table per channel: 256 possible inputs.
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = (v / 255 - mean) / std;
    for (let i = 0; i < plane; i++) out[c * plane + i] = table[image.data[i * 3 + c]!]!;
  }
  return out;
}

/** Runs every step after decoding: decoded pixels → Float32Array [3, size, size]. */
export function preprocessDecoded(decoded: DecodedImage, config: ImagePreprocessConfig): Float32Array {
  return normalize(fitToModel(toUprightRgb(decoded, config.background), config), config);
}
