/**
 * Tests of the model worker running the demo package (public/models/demo) in headless Chromium.
 * A photo and a question give streamed tokens and a `done` event, and a follow-up reuses the
 * conversation. An aborted request ends early, and the next one runs normally.
 * The spec serves the harness page (`e2e/harness/model.html`) and the package from its own Vite
 * dev server on 127.0.0.1.
 */
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { createServer, type ViteDevServer } from 'vite';
import type { TurnOutcome } from './harness/model.ts';

const ROOT = join(import.meta.dirname, '..');

let server: ViteDevServer;
let origin: string;

test.beforeAll(async () => {
  server = await createServer({
    root: ROOT,
    configFile: false,
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    worker: { format: 'es' },
    optimizeDeps: { entries: ['e2e/harness/model.html'] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error(`The Vite dev server started without a TCP address (got ${String(address)}), so the spec cannot build its URL.`);
  origin = `http://127.0.0.1:${address.port}`;
});

test.afterAll(async () => {
  await server?.close();
});

async function openHarness(page: Page): Promise<void> {
  page.on('console', (message) => {
    if (message.type() === 'error') console.log(`[page] ${message.text()}`);
  });
  page.on('pageerror', (error) => console.log(`[page] ${error.message}`));
  await page.goto(`${origin}/e2e/harness/model.html`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
}

function expectAnswered(outcome: TurnOutcome, stopReasons: string[]): void {
  expect(outcome.error).toBeUndefined();
  expect(outcome.ok).toBe(true);
  expect(stopReasons).toContain(outcome.stopReason);
  // The streamed pieces add up to the final text, and token counts only grow.
  expect(outcome.pieces.join('')).toBe(outcome.text);
  expect(outcome.tokenCounts).toEqual([...outcome.tokenCounts].sort((a, b) => a - b));
}

test('worker answers, follows up, survives abort', async ({ page }) => {
  test.setTimeout(600_000);
  await openHarness(page);
  const loaded = await page.evaluate((url) => window.modelHarness.load(url), `${origin}/public/models/demo/`);
  expect(loaded).toMatchObject({ name: 'random demo' });
  expect((loaded as { gpuBytes: number }).gpuBytes).toBeGreaterThan(0);

  const question = 'What is in the photo?';
  const first = await page.evaluate(
    ([q, photo]) => window.modelHarness.turn([{ question: q }], { photoUrl: photo, reset: true }),
    [question, `${origin}/app/test/data/images/chelsea.png`] as const,
  );
  expectAnswered(first, ['max_tokens', 'eos', 'stop_text']);
  expect(first.pieces.length).toBeGreaterThan(0);
  expect(first.imageEncodeMs).toBeGreaterThan(0);
  // 576 image embeddings plus the text of the prompt.
  expect(first.promptTokens).toBeGreaterThan(576);

  // A follow-up reuses the encoded photo: no image sent, none encoded again.
  const followUp = await page.evaluate(
    ([q, answer]) => window.modelHarness.turn([{ question: q, answer }, { question: 'And its colour?' }]),
    [question, first.text!] as const,
  );
  expectAnswered(followUp, ['max_tokens', 'eos', 'stop_text']);
  expect(followUp.imageEncodeMs).toBe(0);
  expect(followUp.promptTokens).toBeGreaterThan(first.promptTokens!);

  // Abort after the first token of a long answer; the next request runs to its end.
  const aborted = await page.evaluate(() =>
    window.modelHarness.turn([{ question: 'Describe it at length.' }], { reset: true, settings: { maxNewTokens: 200 }, abortAfterTokens: 1 }),
  );
  expect(aborted.error).toBeUndefined();
  expect(aborted.stopReason).toBe('aborted');
  expect(aborted.tokenCounts.at(-1) ?? 0).toBeLessThan(200);
  const after = await page.evaluate(() => window.modelHarness.turn([{ question: 'Hello?' }], { reset: true }));
  expectAnswered(after, ['max_tokens', 'eos', 'stop_text']);
});
