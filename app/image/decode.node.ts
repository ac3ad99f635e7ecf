/**
 * Image decoding under Node with pure-JavaScript decoders: `pngjs` for PNG, `jpeg-js` for JPEG,
 * `exifr` for the EXIF orientation. The browser decodes with `createImageBitmap` instead
 * (`decode.browser.ts`), so this file must never be imported by browser code.
 */
import exifr from 'exifr';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

import { ImageDecodeError } from './errors.ts';
import { checkImageSize, MAX_IMAGE_PIXELS, type DecodedImage } from './preprocess.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((value, i) => bytes[i] === value);
}

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Reads the EXIF orientation (1–8), or 1 when the file has none or it cannot be read. */
async function readOrientation(bytes: Uint8Array): Promise<number> {
  try {
    const orientation: unknown = await exifr.orientation(bytes);
    return typeof orientation === 'number' && orientation >= 1 && orientation <= 8 ? orientation : 1;
  } catch {
    // A damaged or missing EXIF block leaves the pixels as stored, as Pillow does.
    return 1;
  }
}

function decodePng(bytes: Uint8Array, file: string): Omit<DecodedImage, 'orientation'> {
  // The IHDR chunk follows the signature: length, "IHDR", then width and height big-endian.
  if (bytes.length >= 24) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    checkImageSize(view.getUint32(16), view.getUint32(20), file);
  }
  let png: PNG;
  try {
    // pngjs expands palette, greyscale and tRNS to RGBA and scales 16-bit samples by 255/65535
    // with rounding.
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ImageDecodeError(file, `the PNG data is damaged or cut short (${detail})`, undefined, {
      cause: error,
    });
  }
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
}

// NOTE: jpeg-js upsamples subsampled chroma (4:2:0, most camera photos) by repeating samples,
// while libjpeg (Pillow, browsers) interpolates, so such JPEGs differ from Pillow by up to about
// 13 levels at colour edges after the resize. Full-resolution chroma stays within 2 levels.
function decodeJpeg(bytes: Uint8Array, file: string): Omit<DecodedImage, 'orientation'> {
  let image: { width: number; height: number; data: Uint8Array };
  try {
    image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
      maxMemoryUsageInMB: 1024,
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    if (/maxResolutionInMP/.test(detail)) {
      throw new ImageDecodeError(
        file,
        `it is over the limit of ${MAX_IMAGE_PIXELS / 1e6} megapixels`,
        'Scale it down (the model sees it at 336×336 anyway) and try again.',
        { cause: error },
      );
    }
    throw new ImageDecodeError(file, `the JPEG data is damaged or cut short (${detail})`, undefined, {
      cause: error,
    });
  }
  checkImageSize(image.width, image.height, file);
  return { width: image.width, height: image.height, rgba: image.data };
}

/**
 * Decodes PNG or JPEG bytes to RGBA with the EXIF orientation still to apply. `file` names the
 * input in error messages. Throws ImageDecodeError for empty, unsupported, damaged or
 * oversized input.
 */
export async function decodeImage(bytes: Uint8Array, file = 'image'): Promise<DecodedImage> {
  if (bytes.length === 0) {
    throw new ImageDecodeError(file, 'the file is empty');
  }
  let pixels: Omit<DecodedImage, 'orientation'>;
  if (isPng(bytes)) {
    pixels = decodePng(bytes, file);
  } else if (isJpeg(bytes)) {
    pixels = decodeJpeg(bytes, file);
  } else {
    throw new ImageDecodeError(
      file,
      'it is neither a PNG nor a JPEG file (its first bytes do not match either format)',
      'Convert it to PNG or JPEG, or open it in the browser app, which also reads WebP, GIF and AVIF.',
    );
  }
  return { ...pixels, orientation: await readOrientation(bytes) };
}
