/**
 * Image preprocessing in Chromium gives the same numbers as under Node. The spec serves the
 * harness page (`e2e/harness/image.html`) from its own Vite dev server on 127.0.0.1, so it needs
 * no production build.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { expect, test } from '@playwright/test';

import { DEFAULT_IMAGE_PREPROCESS } from '../app/checkpoint/manifest.ts';
import { decodeImage } from '../app/image/decode.node.ts';
import { imageToModelPixels, preprocessImage } from '../app/image/preprocess.node.ts';
import type { HarnessError, HarnessResult } from './harness/image-common.ts';
import { startHarnessServer, type HarnessServer } from './harness-server.ts';

const ROOT = join(import.meta.dirname, '..');
const IMAGES = '/app/test/data/images';

let harness: HarnessServer;

test.beforeAll(async () => {
  harness = await startHarnessServer('e2e/harness/image.html');
});

test.afterAll(async () => {
  await harness?.close();
});

type Where = 'preprocessInPage' | 'preprocessInWorker';

async function preprocessInBrowser(
  page: import('@playwright/test').Page,
  file: string,
  where: Where,
): Promise<HarnessResult | HarnessError> {
  await page.goto(harness.url);
  await page.waitForFunction(() => 'imageHarness' in window);
  return page.evaluate(([url, name, method]) => window.imageHarness[method as Where](url!, name!), [
    `${IMAGES}/${file}`,
    file,
    where,
  ]);
}

function bytesOf(base64: string): Uint8Array {
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

function expectResult(result: HarnessResult | HarnessError): HarnessResult {
  if ('error' in result) throw new Error(`Browser preprocessing failed: ${result.error.name}: ${result.error.message}`);
  return result;
}

function expectError(result: HarnessResult | HarnessError): HarnessError {
  if (!('error' in result)) throw new Error('Expected browser preprocessing to fail, but it returned a tensor');
  return result;
}

function countDifferences(actual: Uint8Array, expected: Uint8Array): number {
  let differing = 0;
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) differing++;
  return differing;
}

for (const where of ['preprocessInWorker', 'preprocessInPage'] as const) {
  test(`chelsea.png matches Node exactly (${where})`, async ({ page }) => {
    const result = expectResult(await preprocessInBrowser(page, 'chelsea.png', where));
    expect(result.inWorker).toBe(where === 'preprocessInWorker');

    const bytes = readFileSync(join(ROOT, IMAGES, 'chelsea.png'));
    const nodePixels = await imageToModelPixels(bytes, DEFAULT_IMAGE_PREPROCESS, 'chelsea.png');
    const nodeTensor = await preprocessImage(bytes, DEFAULT_IMAGE_PREPROCESS, 'chelsea.png');
    expect([result.width, result.height]).toEqual([336, 336]);
    expect(countDifferences(bytesOf(result.pixels), nodePixels.data)).toBe(0);
    expect(countDifferences(bytesOf(result.tensor), new Uint8Array(nodeTensor.buffer))).toBe(0);
  });
}

test('EXIF orientations match Node', async ({ page }) => {
  for (let orientation = 1; orientation <= 8; orientation++) {
    const file = `synthetic/orientation-${orientation}.png`;
    const result = expectResult(await preprocessInBrowser(page, file, 'preprocessInWorker'));
    const bytes = readFileSync(join(ROOT, IMAGES, file));
    // The browser hands over upright pixels; Node rotates them itself.
    const decoded = await decodeImage(bytes, file);
    expect(decoded.orientation, file).toBe(orientation);
    const uprightSize = orientation >= 5 ? [decoded.height, decoded.width] : [decoded.width, decoded.height];
    expect([result.decoded.width, result.decoded.height], file).toEqual(uprightSize);
    expect(result.decoded.orientation, file).toBe(1);
    const nodePixels = await imageToModelPixels(bytes, DEFAULT_IMAGE_PREPROCESS, file);
    expect(countDifferences(bytesOf(result.pixels), nodePixels.data), file).toBe(0);
  }
});

test('RGBA with partial alpha', async ({ page }) => {
  const file = 'synthetic/rgba.png';
  const result = expectResult(await preprocessInBrowser(page, file, 'preprocessInWorker'));
  const nodePixels = await imageToModelPixels(readFileSync(join(ROOT, IMAGES, file)), DEFAULT_IMAGE_PREPROCESS, file);
  const browserPixels = bytesOf(result.pixels);
  let maxDiff = 0;
  for (let i = 0; i < nodePixels.data.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(browserPixels[i]! - nodePixels.data[i]!));
  }
  // The 2D canvas stores premultiplied 8-bit colour, so a pixel with partial alpha can come back
  // a level or two off after compositing.
  expect(maxDiff).toBeLessThanOrEqual(2);
});

test('truncated JPEG raises ImageDecodeError', async ({ page }) => {
  const result = await preprocessInBrowser(page, 'truncated.jpg', 'preprocessInWorker');
  expect(expectError(result).error).toEqual({
    name: 'ImageDecodeError',
    message: expect.stringMatching(/^Cannot read image "truncated.jpg": the browser could not decode it.* Choose a PNG, JPEG, WebP, GIF, AVIF or BMP photo\.$/),
  });
});
