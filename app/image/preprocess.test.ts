import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';

import { DEFAULT_IMAGE_PREPROCESS, type ImagePreprocessConfig } from '../checkpoint/manifest.ts';
import { decodeImage } from './decode.node.ts';
import { ImageDecodeError } from './errors.ts';
import { MAX_IMAGE_PIXELS } from './preprocess.ts';
import { imageToModelPixels, preprocessImage, preprocessImageFile } from './preprocess.node.ts';

// Expected outputs are written by make_fixtures.py with Pillow 9.4.
const DATA = join(import.meta.dirname, '../test/data/images');
const CROP: ImagePreprocessConfig = { ...DEFAULT_IMAGE_PREPROCESS, aspect: 'crop' };

function readExpected(name: string): Uint8Array {
  const png = PNG.sync.read(readFileSync(join(DATA, 'expected', `${name}.png`)));
  const rgb = new Uint8Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) {
    rgb.set(png.data.subarray(i * 4, i * 4 + 3), i * 3);
  }
  return rgb;
}

/** Returns the largest per-channel difference and how many channel values differ. */
function compare(actual: Uint8Array, expected: Uint8Array): { maxDiff: number; differing: number } {
  let maxDiff = 0;
  let differing = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    if (diff > 0) differing++;
    maxDiff = Math.max(maxDiff, diff);
  }
  return { maxDiff, differing };
}

const EXACT_CASES: [name: string, file: string][] = [
  ['chelsea', 'chelsea.png'],
  ['coffee', 'coffee.png'],
  ['camera', 'camera.png'],
  ['wide-odd', 'synthetic/wide-odd.png'],
  ['tall-odd', 'synthetic/tall-odd.png'],
  ['one-pixel', 'synthetic/one-pixel.png'],
  ['exact-size', 'synthetic/exact-size.png'],
  ['greyscale', 'synthetic/greyscale.png'],
  ['grey-alpha', 'synthetic/grey-alpha.png'],
  ['rgba', 'synthetic/rgba.png'],
  ['palette', 'synthetic/palette.png'],
  ['palette-alpha', 'synthetic/palette-alpha.png'],
  ['rgb16', 'synthetic/rgb16.png'],
  ['grey16', 'synthetic/grey16.png'],
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((n): [string, string] => [`orientation-${n}`, `synthetic/orientation-${n}.png`]),
];

describe('image preprocessing matches Pillow', () => {
  it.each(EXACT_CASES)('%s exactly', async (name, file) => {
    const pixels = await imageToModelPixels(readFileSync(join(DATA, file)), DEFAULT_IMAGE_PREPROCESS, file);
    expect(pixels.width).toBe(336);
    expect(pixels.height).toBe(336);
    expect(compare(pixels.data, readExpected(name))).toEqual({ maxDiff: 0, differing: 0 });
  });

  it('crop aspect exactly', async () => {
    const pixels = await imageToModelPixels(readFileSync(join(DATA, 'chelsea.png')), CROP);
    expect(compare(pixels.data, readExpected('chelsea-crop'))).toEqual({ maxDiff: 0, differing: 0 });
  });

  // JPEG decoders differ in IDCT and chroma upsampling, so only closeness is expected.
  it.each([
    ['rocket', 'rocket.jpg'],
    ['rotated-photo', 'synthetic/rotated-photo.jpg'],
  ])('%s JPEG within a few levels', async (name, file) => {
    const pixels = await imageToModelPixels(readFileSync(join(DATA, file)), DEFAULT_IMAGE_PREPROCESS, file);
    const { maxDiff, differing } = compare(pixels.data, readExpected(name));
    expect(maxDiff).toBeLessThanOrEqual(4);
    expect(differing / pixels.data.length).toBeLessThan(0.5);
  });

  it('rotated JPEG is upright', async () => {
    const decoded = await decodeImage(readFileSync(join(DATA, 'synthetic/rotated-photo.jpg')));
    expect(decoded.orientation).toBe(6);
    expect(decoded.width).toBe(160);
    expect(decoded.height).toBe(100);
  });
});

describe('preprocessImage', () => {
  it('normalises channels first with CLIP mean and std', async () => {
    const bytes = readFileSync(join(DATA, 'chelsea.png'));
    const tensor = await preprocessImage(bytes, DEFAULT_IMAGE_PREPROCESS, 'chelsea.png');
    const expected = readExpected('chelsea');
    const plane = 336 * 336;
    expect(tensor.length).toBe(3 * plane);
    let maxError = 0;
    for (let c = 0; c < 3; c++) {
      const { mean, std } = DEFAULT_IMAGE_PREPROCESS;
      for (let i = 0; i < plane; i++) {
        const reference = (expected[i * 3 + c]! / 255 - mean[c]!) / std[c]!;
        maxError = Math.max(maxError, Math.abs(tensor[c * plane + i]! - reference));
      }
    }
    expect(maxError).toBeLessThan(1e-6);
  });

  it('accepts a Blob', async () => {
    const bytes = readFileSync(join(DATA, 'synthetic/wide-odd.png'));
    const fromBlob = await preprocessImage(new Blob([bytes]), DEFAULT_IMAGE_PREPROCESS);
    const fromBytes = await preprocessImage(bytes, DEFAULT_IMAGE_PREPROCESS);
    expect(fromBlob).toEqual(fromBytes);
  });

  it('follows the configured size', async () => {
    const config = { ...DEFAULT_IMAGE_PREPROCESS, size: 224 };
    const tensor = await preprocessImage(readFileSync(join(DATA, 'coffee.png')), config);
    expect(tensor.length).toBe(3 * 224 * 224);
  });

  it('handles a wide image', async () => {
    const png = new PNG({ width: 3000, height: 400 });
    png.data.fill(200);
    for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
    const pixels = await imageToModelPixels(PNG.sync.write(png), DEFAULT_IMAGE_PREPROCESS, 'wide.png');
    // Middle row is image, top row is padding.
    expect(Array.from(pixels.data.subarray(168 * 336 * 3, 168 * 336 * 3 + 3))).toEqual([200, 200, 200]);
    expect(Array.from(pixels.data.subarray(0, 3))).toEqual([122, 116, 104]);
  });
});

describe('bad image input', () => {
  async function decodeError(bytes: Uint8Array, file: string): Promise<ImageDecodeError> {
    const error = await preprocessImage(bytes, DEFAULT_IMAGE_PREPROCESS, file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageDecodeError);
    return error as ImageDecodeError;
  }

  it('rejects a truncated JPEG', async () => {
    const error = await decodeError(readFileSync(join(DATA, 'truncated.jpg')), 'truncated.jpg');
    expect(error.file).toBe('truncated.jpg');
    expect(error.message).toMatch(/^Cannot read image "truncated.jpg": the JPEG data is damaged/);
  });

  it('rejects a truncated PNG', async () => {
    const bytes = readFileSync(join(DATA, 'chelsea.png'));
    const error = await decodeError(bytes.subarray(0, bytes.length >> 1), 'half.png');
    expect(error.message).toMatch(/PNG data is damaged or cut short/);
  });

  it('rejects an empty file', async () => {
    const error = await decodeError(new Uint8Array(0), 'empty.png');
    expect(error.message).toBe('Cannot read image "empty.png": the file is empty. Choose a PNG or JPEG photo.');
  });

  it('rejects text named .png', async () => {
    const error = await decodeError(new TextEncoder().encode('not an image\n'), 'notes.png');
    expect(error.message).toMatch(/"notes.png": it is neither a PNG nor a JPEG/);
  });

  it('rejects an oversized PNG before decoding', async () => {
    // A valid signature and IHDR claiming 40000 × 40000, and no image data at all.
    const header = new Uint8Array(33);
    header.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    const view = new DataView(header.buffer);
    view.setUint32(16, 40000);
    view.setUint32(20, 40000);
    header.set([8, 6, 0, 0, 0], 24);
    const error = await decodeError(header, 'huge.png');
    expect(error.message).toContain('40000×40000 pixels');
    expect(error.message).toContain(`${MAX_IMAGE_PIXELS / 1e6} megapixels`);
  });

  it('names a missing file', async () => {
    const error = await preprocessImageFile('/nonexistent/cat.png', DEFAULT_IMAGE_PREPROCESS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageDecodeError);
    expect((error as Error).message).toContain('"/nonexistent/cat.png": the file was not found');
  });
});
