/** Getting the model: pause, resume after a reload, stored models, deleting them, dropped files. */
import { expect, test } from '@playwright/test';
import { startPackageServer, type PackageServer } from './package-server.ts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_PACKAGE, dropFiles, openApp, screenshot } from './app-helpers.ts';

let server: PackageServer;
test.beforeAll(async () => {
  server = await startPackageServer(DEMO_PACKAGE);
});
test.afterAll(async () => {
  await server.close();
});

test('paused download resumes after reload', async ({ page }) => {
  // About 1 MB/s per file, so the largest shard (6.4 MB) takes several seconds.
  server.faults.bytesPerSecond = 1_000_000;
  await openApp(page);
  await page.getByLabel('Package URL').fill(server.url);
  await page.getByRole('button', { name: 'Get model' }).click();

  const bar = page.getByTestId('model-loading').locator('progress');
  await expect(page.getByTestId('progress-line')).toContainText(/Downloading .* of .* · \d+% · .*\/s · .* left/);
  await screenshot(page, 'loading');
  // Past 80% the first 4 MiB chunk of the largest shard is stored, so the resume starts after it.
  await expect.poll(async () => Number(await bar.getAttribute('value')), { timeout: 60_000 }).toBeGreaterThanOrEqual(80);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();
  await expect(page.getByText('incomplete')).toBeVisible();

  await page.reload();
  await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();
  delete server.faults.bytesPerSecond;
  const before = server.requests.length;
  await page.getByRole('button', { name: 'Resume' }).click();

  await expect.poll(() => server.requests.slice(before).some((request) => request.range !== undefined)).toBe(true);
  const resumed = server.requests.slice(before).filter((request) => request.file.endsWith('.safetensors'));
  for (const request of resumed) {
    expect(request.range, `${request.file} was fetched from its start again`).toMatch(/^bytes=[1-9]\d*-$/);
  }
  await expect(page.getByTestId('model-ready')).toBeVisible();
});

test('stored model is listed and deleted', async ({ page }) => {
  await openApp(page);
  await page.getByLabel('Package URL').fill(server.url);
  await page.getByRole('button', { name: 'Get model' }).click();
  await expect(page.getByTestId('model-ready').or(page.getByTestId('model-error'))).toBeVisible();

  const stored = page.getByRole('listitem').filter({ hasText: 'random demo' });
  await expect(stored).toContainText(/\d+(\.\d)? MB/);
  await expect(page.getByTestId('storage-line')).toContainText(/Storage: .* used of .* available/);

  await page.getByRole('button', { name: 'Delete random demo' }).click();
  await expect(page.getByText('No models stored yet.')).toBeVisible();
});

test('dropped package files load', async ({ page }) => {
  await openApp(page);
  const files = readdirSync(DEMO_PACKAGE).map((name) => ({ path: join(DEMO_PACKAGE, name), type: '' }));
  await dropFiles(page, files);

  await expect(page.getByTestId('model-ready')).toBeVisible();
  await expect(page.getByTestId('model-ready')).toContainText('random demo');
  await expect(page.getByRole('listitem').filter({ hasText: 'random demo' })).toBeVisible();
  // Model files never become the photo.
  await expect(page.getByTestId('photo-thumb')).toHaveCount(0);
});

test('dropped checkpoint is converted and loads', async ({ page }) => {
  const folder = mkdtempSync(join(tmpdir(), 'trit-checkpoint-'));
  try {
    execFileSync(process.execPath, ['bin/trit.mjs', 'make-checkpoint', join(folder, 'tiny'), '--preset', 'tiny', '--seed', '2', '--quiet']);
    await openApp(page);
    await dropFiles(page, [
      { path: join(folder, 'tiny', 'pytorch_model.bin'), type: '' },
      { path: join(folder, 'tiny', 'config.json'), type: 'application/json' },
      { path: join(import.meta.dirname, '..', 'app', 'test', 'data', 'tokenizer', 'tokenizer.json'), type: 'application/json' },
    ]);

    await expect(page.getByTestId('model-ready')).toBeVisible();
    await expect(page.getByTestId('photo-thumb')).toHaveCount(0);
    await expect(page.getByRole('listitem').filter({ hasText: /\d+(\.\d)? MB/ })).toHaveCount(1);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('folder picker loads package folder', async ({ page }) => {
  await openApp(page);
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'a folder' }).click();
  await (await chooser).setFiles(DEMO_PACKAGE);

  await expect(page.getByTestId('model-ready')).toBeVisible();
  await expect(page.getByTestId('model-ready')).toContainText('random demo');
});

test('mistyped package URL reports not found', async ({ page, baseURL }) => {
  await openApp(page);
  const error = page.getByTestId('model-error');

  // The preview server responds to unknown paths with the app's own index.html.
  await page.getByLabel('Package URL').fill('models/nope');
  await page.getByRole('button', { name: 'Get model' }).click();
  await expect(error).toContainText(`No Trit package was found at ${baseURL}/models/nope/ (the server returned a web page). Check the URL.`);
  await expect(error).not.toContainText('JSON');

  // A server that responds with 404.
  await page.getByLabel('Package URL').fill(`${server.url}nope/`);
  await page.getByRole('button', { name: 'Get model' }).click();
  await expect(error).toContainText(`No Trit package was found at ${server.url}nope/ (HTTP 404). Check the URL.`);
  await expect(page.getByText('No models stored yet.')).toBeVisible();
});
