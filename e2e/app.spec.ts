/**
 * The chat app as a person uses it, in Chromium on SwiftShader's WebGPU, against the
 * production build served by `vite preview` and the demo package (random weights).
 */
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startPackageServer, type PackageServer } from './package-server.ts';
import { ask, DEMO_PACKAGE, dropFile, IMAGES, lastAnswer, loadModel, openApp, screenshot, tokenCount } from './app-helpers.ts';

const CHELSEA = join(IMAGES, 'chelsea.png');

test('demo package answers, follows up and stops', async ({ page }) => {
  await openApp(page);
  await screenshot(page, 'empty');

  await page.getByLabel('Package URL').fill('models/demo/');
  await page.getByRole('button', { name: 'Get model' }).click();
  await expect(page.getByTestId('model-ready')).toBeVisible();
  await expect(page.getByTestId('model-ready')).toContainText('random weights');

  await dropFile(page, CHELSEA, 'image/png');
  await expect(page.getByTestId('photo-thumb')).toBeVisible();
  await expect(page.getByText('chelsea.png · 451×300')).toBeVisible();

  // The settings start at the chat defaults; shorter answers keep the test quick.
  await page.getByText('Settings').click();
  await expect(page.getByLabel('Temperature')).toHaveValue('0.2');
  await expect(page.getByLabel('Top-p')).toHaveValue('0.7');
  await expect(page.getByLabel('Maximum length (tokens)')).toHaveValue('512');
  await page.getByLabel('Maximum length (tokens)').fill('24');

  // First question: tokens stream in one by one, then the answer finishes with a speed readout.
  await ask(page, 'What animal is in the photo?');
  const first = lastAnswer(page);
  await expect(first).toHaveAttribute('data-state', 'streaming');
  await expect(first.getByTestId('answer-meta')).toContainText(/Answering · \d+ tokens?/);
  const seen = await tokenCount(first);
  await expect.poll(() => tokenCount(first)).toBeGreaterThan(seen);
  await expect(first).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  await expect(first.getByTestId('answer-meta')).toContainText('tokens/s');
  await expect(first.getByTestId('answer-meta')).toHaveAttribute('title', /photo encoded in \d+ ms, \d+ prompt tokens read in \d+ ms/);
  expect(await tokenCount(first)).toBeLessThanOrEqual(24);
  await expect(first.getByTestId('answer-text')).not.toBeEmpty();
  await expect(first.locator('[aria-live]')).toHaveCount(1);

  // Follow-up in the same conversation.
  await ask(page, 'What colour is it?');
  await expect(page.getByTestId('message-user')).toHaveCount(2);
  await expect(lastAnswer(page)).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  await expect(page.getByTestId('message-assistant')).toHaveCount(2);
  await expect(page.getByTestId('message-assistant').first()).toHaveAttribute('data-state', 'done');

  // Stop midway: a long answer is cut after its first tokens, then the next question works.
  await page.getByLabel('Maximum length (tokens)').fill('512');
  await ask(page, 'Describe the photo in detail.');
  const stopped = lastAnswer(page);
  await expect(stopped.getByTestId('answer-meta')).toContainText(/Answering · \d+ tokens\b/);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(stopped).toHaveAttribute('data-state', 'stopped');
  expect(await tokenCount(stopped)).toBeLessThan(512);
  await expect(page.getByRole('button', { name: 'Ask' })).toBeVisible();

  await page.getByLabel('Maximum length (tokens)').fill('8');
  await ask(page, 'Is it indoors?');
  await expect(lastAnswer(page)).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  await expect(page.getByTestId('message-assistant')).toHaveCount(4);

  // A new conversation clears the messages and keeps the photo.
  await page.getByRole('button', { name: 'New conversation' }).click();
  await expect(page.getByTestId('message-assistant')).toHaveCount(0);
  await expect(page.getByTestId('photo-thumb')).toBeVisible();
});

test('reloads offline from the caches and answers', async ({ page, context }) => {
  await openApp(page);
  await loadModel(page, 'models/demo/');
  await expect(page.getByTestId('model-ready')).toContainText('random demo');
  // The service worker has precached the app shell once it controls the page.
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('offline-badge')).toBeVisible();
  await expect(page.getByTestId('model-ready')).toBeVisible();

  await dropFile(page, CHELSEA, 'image/png');
  await page.getByText('Settings').click();
  await page.getByLabel('Maximum length (tokens)').fill('8');
  await ask(page, 'What is in the photo?');
  await expect(lastAnswer(page)).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  await expect(lastAnswer(page).getByTestId('answer-meta')).toContainText(/\d+ tokens?/);
});

test('bad photo shows message, keeps chat', async ({ page }) => {
  await openApp(page);
  await loadModel(page, 'models/demo/');
  await dropFile(page, CHELSEA, 'image/png');
  await page.getByText('Settings').click();
  await page.getByLabel('Maximum length (tokens)').fill('4');
  await ask(page, 'What is this?');
  await expect(lastAnswer(page)).toHaveAttribute('data-state', 'done', { timeout: 240_000 });

  await dropFile(page, join(IMAGES, 'truncated.jpg'), 'image/jpeg');
  await expect(page.getByTestId('photo-notice')).toContainText('"truncated.jpg" could not be decoded');
  await expect(page.getByText('chelsea.png · 451×300')).toBeVisible();
  await expect(page.getByTestId('message-assistant')).toHaveCount(1);
  await screenshot(page, 'bad-photo');

  await dropFile(page, join(import.meta.dirname, 'app.spec.ts'), 'text/plain', 'notes.txt');
  await expect(page.getByTestId('photo-notice')).toContainText('"notes.txt" is not a photo');
  await expect(page.getByText('chelsea.png · 451×300')).toBeVisible();
  await expect(page.getByTestId('message-assistant')).toHaveCount(1);

  // The conversation goes on with the original photo.
  await ask(page, 'And now?');
  await expect(lastAnswer(page)).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  await expect(page.getByTestId('message-assistant')).toHaveCount(2);
});

test.describe('corrupted shard', () => {
  let server: PackageServer;
  test.beforeAll(async () => {
    server = await startPackageServer(DEMO_PACKAGE);
  });
  test.afterAll(async () => {
    await server.close();
  });

  test('shows error, then retry works', async ({ page }) => {
    const manifest = JSON.parse(await (await fetch(`${server.url}manifest.json`)).text()) as { shards: { file: string }[] };
    server.faults.corrupt = { file: manifest.shards[0].file, times: Infinity };

    await openApp(page);
    await page.getByLabel('Package URL').fill(server.url);
    await page.getByRole('button', { name: 'Get model' }).click();
    const error = page.getByTestId('model-error');
    await expect(error).toBeVisible();
    await expect(error).toContainText(manifest.shards[0].file);
    await screenshot(page, 'error');

    delete server.faults.corrupt;
    await page.getByRole('button', { name: 'Try again' }).click();
    await expect(page.getByTestId('model-ready')).toBeVisible();
  });
});

test('keyboard-only load, ask and stop', async ({ page }) => {
  await openApp(page);

  // Tab from the top reaches the skip link first, with a visible focus outline.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to the question' })).toBeFocused();
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  expect(outline).not.toBe('none');

  await page.getByLabel('Package URL').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('model-ready')).toBeVisible();

  await page.getByRole('button', { name: 'choose a file' }).focus();
  const chooser = page.waitForEvent('filechooser');
  await page.keyboard.press('Enter');
  await (await chooser).setFiles(CHELSEA);
  await expect(page.getByText('chelsea.png · 451×300')).toBeVisible();

  await page.getByLabel('Question').focus();
  await page.keyboard.type('What is this?');
  await page.keyboard.press('Enter');
  const answer = lastAnswer(page);
  await expect(answer.getByTestId('answer-meta')).toContainText(/Answering · \d+ tokens?/);
  await page.keyboard.press('Escape');
  await expect(answer).toHaveAttribute('data-state', 'stopped');
});
