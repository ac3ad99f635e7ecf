/** Steps the app's browser tests share: loading a model, dropping files, asking. */
import { readFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect, type Locator, type Page } from '@playwright/test';

export const IMAGES = join(import.meta.dirname, '..', 'app', 'test', 'data', 'images');
export const DEMO_PACKAGE = join(import.meta.dirname, '..', 'public', 'models', 'demo');
/**
 * Where `screenshot` saves: `test-results/screenshots/` by default, so a test run leaves the
 * tracked files alone, and the README's `docs/screenshots/` with `TRIT_UPDATE_SCREENSHOTS=1`.
 */
export const SCREENSHOTS =
  process.env.TRIT_UPDATE_SCREENSHOTS === '1'
    ? join(import.meta.dirname, '..', 'docs', 'screenshots')
    : join(import.meta.dirname, '..', 'test-results', 'screenshots');

/** Saves a full-page screenshot as `<name>.png` under {@link SCREENSHOTS}. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Opens the app and waits until it has probed WebGPU. */
export async function openApp(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByText('WebGPU ready')).toBeVisible();
}

/** Loads the package at `url` through the model panel and waits for it. */
export async function loadModel(page: Page, url: string): Promise<void> {
  await page.getByLabel('Package URL').fill(url);
  await page.getByRole('button', { name: /Get model|Load/ }).first().click();
  await expect(page.getByTestId('model-ready')).toBeVisible();
}

/**
 * Drops a file on the page the way a browser does: dragenter, dragover and drop events
 * carrying a DataTransfer with the file. Returns after the drop event; checks that the
 * window-wide drop overlay showed while dragging.
 */
export async function dropFile(page: Page, path: string, type: string, name = basename(path)): Promise<void> {
  await dropFiles(page, [{ path, type, name }]);
}

/** Drops several files at once, as `dropFile` does. */
export async function dropFiles(page: Page, files: { path: string; type: string; name?: string }[]): Promise<void> {
  const encoded = files.map(({ path, type, name }) => ({ base64: readFileSync(path).toString('base64'), type, name: name ?? basename(path) }));
  await page.evaluate(
    (encoded) => {
      const transfer = new DataTransfer();
      for (const { base64, name, type } of encoded) {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], name, { type }));
      }
      (window as unknown as { __drop: DataTransfer }).__drop = transfer;
      const target = document.elementFromPoint(innerWidth / 2, innerHeight / 2) ?? document.body;
      target.dispatchEvent(new DragEvent('dragenter', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    encoded,
  );
  await expect(page.getByTestId('drop-overlay')).toBeVisible();
  await page.evaluate(() => {
    const transfer = (window as unknown as { __drop: DataTransfer }).__drop;
    const target = document.elementFromPoint(innerWidth / 2, innerHeight / 2) ?? document.body;
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  });
  await expect(page.getByTestId('drop-overlay')).toBeHidden();
}

/** Types a question and sends it with Enter. */
export async function ask(page: Page, question: string): Promise<void> {
  const box = page.getByLabel('Question');
  await box.fill(question);
  await box.press('Enter');
}

/** The last answer in the conversation. */
export function lastAnswer(page: Page) {
  return page.getByTestId('message-assistant').last();
}

/**
 * Reads the token count that an answer shows under its text.
 * Returns 0 while that line is empty, which it is before the first token.
 */
export async function tokenCount(answer: Locator): Promise<number> {
  const meta = (await answer.getByTestId('answer-meta').textContent()) ?? '';
  if (meta === '') return 0;
  const match = /(\d+) tokens?/.exec(meta);
  if (!match) throw new Error(`The answer shows no token count: "${meta}"`);
  return Number(match[1]);
}
