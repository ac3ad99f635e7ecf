/**
 * Image decoding in the browser (page or worker): `createImageBitmap` decodes and applies the
 * EXIF orientation, and an `OffscreenCanvas` gives the pixels. The bitmap is decoded with no
 * colour-space conversion and no premultiplication, so the pixels are the stored samples, as
 * Pillow and the Node decoders see them.
 *
 * The orientation is left to the browser because Chromium (checked on version 156) applies it
 * even when asked for `imageOrientation: 'none'`, which the HTML standard has since replaced by
 * 'from-image'. Applying it again here would rotate the image twice.
 */
import { ImageDecodeError } from './errors.ts';
import { BROWSER_PHOTO_NAMES } from './photo-types.ts';
import { checkImageSize, type DecodedImage } from './preprocess.ts';

/**
 * Decodes an image the browser can read ({@link BROWSER_PHOTO_NAMES}) to upright RGBA
 * (orientation 1). `file` names the input in error messages; a `File` supplies
 * its own name. Throws ImageDecodeError for empty, undecodable or oversized input.
 */
export async function decodeImage(input: Blob | Uint8Array, file?: string): Promise<DecodedImage> {
  const blob = input instanceof Blob ? input : new Blob([input as Uint8Array<ArrayBuffer>]);
  const name = file ?? (input instanceof File ? input.name : 'image');
  if (blob.size === 0) {
    throw new ImageDecodeError(name, 'the file is empty');
  }

  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
      imageOrientation: 'from-image',
    });
  } catch (error) {
    throw new ImageDecodeError(
      name,
      'the browser could not decode it: it is damaged, cut short or not an image',
      `Choose a ${BROWSER_PHOTO_NAMES} photo.`,
      { cause: error },
    );
  }

  try {
    checkImageSize(bitmap.width, bitmap.height, name);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) {
      throw new ImageDecodeError(name, 'this browser offers no 2D canvas to read pixels from', 'Try another browser.');
    }
    // NOTE: the 2D canvas keeps premultiplied 8-bit colour, so where alpha is below 255 the
    // colour read back can differ from the file by a level or two, and the composited result
    // from Node's by up to 2. Opaque images come back exact.
    context.drawImage(bitmap, 0, 0);
    const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height);
    return {
      width: bitmap.width,
      height: bitmap.height,
      rgba: pixels.data,
      orientation: 1,
    };
  } finally {
    bitmap.close();
  }
}
