/** Adding, replacing and removing the photo: drop, paste and file picker. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { dropFile, IMAGES, openApp, screenshot } from './app-helpers.ts';

test('photo by drop, paste and picker', async ({ page }) => {
  await openApp(page);

  await dropFile(page, join(IMAGES, 'chelsea.png'), 'image/png');
  await expect(page.getByTestId('photo-thumb')).toBeVisible();
  await expect(page.getByText('chelsea.png · 451×300')).toBeVisible();

  // Paste replaces it.
  const coffee = readFileSync(join(IMAGES, 'coffee.png')).toString('base64');
  await page.evaluate((base64) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], 'coffee.png', { type: 'image/png' }));
    document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
  }, coffee);
  await expect(page.getByText('coffee.png · 600×400')).toBeVisible();

  // The file picker behind "Replace" replaces it too.
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Replace' }).click();
  await (await chooser).setFiles(join(IMAGES, 'rocket.jpg'));
  await expect(page.getByText('rocket.jpg · 640×427')).toBeVisible();

  await page.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByTestId('photo-thumb')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'choose a file' })).toBeVisible();
});

test('broken photos leave the photo alone', async ({ page }) => {
  await openApp(page);
  await dropFile(page, join(IMAGES, 'chelsea.png'), 'image/png');
  await expect(page.getByText('chelsea.png · 451×300')).toBeVisible();

  await dropFile(page, join(IMAGES, 'truncated.jpg'), 'image/jpeg');
  await expect(page.getByTestId('photo-notice')).toContainText('"truncated.jpg" could not be decoded');
  await expect(page.getByText('chelsea.png · 451×300')).toBeVisible();

  await dropFile(page, join(import.meta.dirname, 'app-photo.spec.ts'), 'text/plain', 'notes.txt');
  await expect(page.getByTestId('photo-notice')).toContainText('"notes.txt" is not a photo');
  await expect(page.getByText('chelsea.png · 451×300')).toBeVisible();

  // An empty type gets the same check by decoding.
  await dropFile(page, join(import.meta.dirname, 'app-photo.spec.ts'), '', 'photo.png');
  await expect(page.getByTestId('photo-notice')).toContainText('"photo.png" could not be decoded');

  await page.getByRole('button', { name: 'Dismiss message' }).click();
  await expect(page.getByTestId('photo-notice')).toHaveCount(0);
});

test('theme follows the system setting', async ({ page }) => {
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);

  await page.emulateMedia({ colorScheme: 'light' });
  await openApp(page);
  expect(await background()).toBe('rgb(247, 247, 245)');

  await page.emulateMedia({ colorScheme: 'dark' });
  expect(await background()).toBe('rgb(20, 21, 23)');
  await dropFile(page, join(IMAGES, 'chelsea.png'), 'image/png');
  await screenshot(page, 'dark');
});
