/**
 * Tests of the streaming chat on a desktop window and on a 390 px phone. The newest text stays in
 * view above the question box, and the phone shows the chat before the panels. A setting out of
 * range gets a message, and leaving the page shows a confirmation prompt while a conversation
 * exists.
 */
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { ask, dropFile, IMAGES, lastAnswer, loadModel, openApp, screenshot, tokenCount } from './app-helpers.ts';

const CHELSEA = join(IMAGES, 'chelsea.png');

/** A question long enough to push the answer towards the bottom of a phone screen. */
const LONG_QUESTION =
  'Look closely at the photo and describe the animal in it: its fur, the colour of its eyes, where it looks, ' +
  'what lies behind it, and whether the light comes from the left or from the right.';

/** Characters DejaVu Sans, the test browser's font, draws: Latin, Greek, Cyrillic and common punctuation. */
const DRAWN_TEXT = /^[\u0000-\u052f\u2000-\u206f]*$/u;

/** Returns where the newest line of `page`'s last answer lies, with the question box's top and the window's height. */
async function newestLine(page: Page): Promise<{ top: number; bottom: number; composerTop: number; height: number }> {
  return page.evaluate(() => {
    const answers = document.querySelectorAll('[data-testid="message-assistant"]');
    const meta = answers[answers.length - 1].querySelector('[data-testid="answer-meta"]')!.getBoundingClientRect();
    const composer = document.getElementById('composer')!.getBoundingClientRect();
    return { top: meta.top, bottom: meta.bottom, composerTop: composer.top, height: innerHeight };
  });
}

/** Waits for `count` more tokens of the last answer, checking after each that its newest line shows above the question box. */
async function expectFollowed(page: Page, count: number): Promise<void> {
  const answer = lastAnswer(page);
  const start = await tokenCount(answer);
  for (let seen = start; seen < start + count; seen = await tokenCount(answer)) {
    await expect.poll(() => tokenCount(answer), { timeout: 120_000 }).toBeGreaterThan(seen);
    const line = await newestLine(page);
    expect(line.top, 'the newest line is above the window').toBeGreaterThanOrEqual(0);
    expect(line.bottom, 'the newest line is under the question box').toBeLessThanOrEqual(line.composerTop + 1);
  }
}

/** Asks until an answer's first tokens are all text the font draws, so a screenshot shows no empty boxes. */
async function askForDrawnAnswer(page: Page, question: string, tries = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await ask(page, question);
    const answer = lastAnswer(page);
    await expect.poll(() => tokenCount(answer), { timeout: 120_000 }).toBeGreaterThanOrEqual(6);
    const text = (await answer.getByTestId('answer-text').textContent()) ?? '';
    if (DRAWN_TEXT.test(text) || attempt === tries) return;
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(answer).toHaveAttribute('data-state', 'stopped');
    await page.getByRole('button', { name: 'New conversation' }).click();
  }
}

test.describe('desktop window', () => {
  test.use({ viewport: { width: 1280, height: 640 } });

  test('follows stream until scrolled up', async ({ page }) => {
    await openApp(page);
    await loadModel(page, 'models/demo/');
    await dropFile(page, CHELSEA, 'image/png');
    await page.getByText('Settings').click();
    await expect(page.getByLabel('Maximum length (tokens)')).toHaveValue('512');

    await ask(page, LONG_QUESTION);
    const answer = lastAnswer(page);
    // Until the first token the answer reads "Thinking…" and the line under it stays empty.
    await expect(answer.getByTestId('answer-text')).toHaveText('Thinking…');
    await expect(answer.getByTestId('answer-meta')).not.toContainText('Answering');
    await expectFollowed(page, 6);
    await expect(answer.getByTestId('answer-meta')).toContainText(/^Answering · \d+ tokens · \d+\.\d tokens\/s$/);

    // Scrolled up, the page stays put while tokens arrive.
    // The answer grows until the page has followed it well down.
    for (let i = 0; i < 40 && (await page.evaluate(() => scrollY)) <= 150; i++) await expectFollowed(page, 4);
    const followed = await page.evaluate(() => scrollY);
    expect(followed, 'the page scrolled to follow the answer').toBeGreaterThan(150);
    await page.mouse.move(800, 300);
    await page.mouse.wheel(0, -150);
    await expect.poll(() => page.evaluate(() => scrollY)).toBeLessThan(followed);
    const scrolled = await page.evaluate(() => scrollY);
    const seen = await tokenCount(answer);
    await expect.poll(() => tokenCount(answer), { timeout: 120_000 }).toBeGreaterThan(seen + 1);
    expect(await page.evaluate(() => scrollY)).toBe(scrolled);
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(answer).toHaveAttribute('data-state', 'stopped');

    // The README's screenshot: default settings, an answer partway through.
    await page.getByRole('button', { name: 'New conversation' }).click();
    await askForDrawnAnswer(page, 'What animal is in the photo?');
    await screenshot(page, 'answering');
    await page.getByRole('button', { name: 'Stop' }).click();
  });

  test('out-of-range setting shows range, keeps value', async ({ page }) => {
    await openApp(page);
    await page.getByText('Settings').click();
    const cases = [
      { label: 'Temperature', text: '-3', message: '-3 is out of range: enter a number from 0 to 2. 0.2 is used until then.' },
      { label: 'Top-p', text: '5', message: '5 is out of range: enter a number from 0.01 to 1. 0.7 is used until then.' },
      { label: 'Maximum length (tokens)', text: '0', message: '0 is out of range: enter a whole number from 1 to 2048. 512 is used until then.' },
    ];
    for (const { label, text, message } of cases) {
      const field = page.getByLabel(label);
      await field.fill(text);
      await field.blur();
      // The text stays as typed, marked invalid, with its message beside it.
      await expect(field).toHaveValue(text);
      await expect(field).toHaveAttribute('aria-invalid', 'true');
      await expect(page.getByText(message)).toBeVisible();
    }
    await page.getByLabel('Maximum length (tokens)').fill('2.5');
    await expect(page.getByText('2.5 is not a whole number: enter a whole number from 1 to 2048.', { exact: false })).toBeVisible();

    await page.getByRole('button', { name: /Restore defaults/ }).click();
    await expect(page.getByLabel('Temperature')).toHaveValue('0.2');
    await expect(page.getByLabel('Top-p')).toHaveValue('0.7');
    await expect(page.getByLabel('Maximum length (tokens)')).toHaveValue('512');
    await expect(page.locator('[aria-invalid="true"]')).toHaveCount(0);
  });

  test('beforeunload prompts only mid-conversation', async ({ page }) => {
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.type());
      void dialog.accept();
    });
    await openApp(page);
    await loadModel(page, 'models/demo/');
    await dropFile(page, CHELSEA, 'image/png');
    await page.reload();
    await expect(page.getByTestId('model-ready')).toBeVisible();
    expect(dialogs).toEqual([]);

    await dropFile(page, CHELSEA, 'image/png');
    await page.getByText('Settings').click();
    await page.getByLabel('Maximum length (tokens)').fill('2');
    await ask(page, 'What is this?');
    await expect(lastAnswer(page)).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
    await page.reload();
    await expect(page.getByTestId('model-ready')).toBeVisible();
    expect(dialogs).toEqual(['beforeunload']);
  });
});

test.describe('390 px phone', () => {
  test.use({ viewport: { width: 390, height: 664 }, isMobile: true, hasTouch: true });

  test('chat first, answer in view', async ({ page }) => {
    await openApp(page);
    const chat = await page.getByRole('region', { name: 'Chat' }).boundingBox();
    const model = await page.getByRole('heading', { name: 'Model' }).boundingBox();
    expect(chat!.y, 'the chat comes before the model panel').toBeLessThan(model!.y);
    await expect(page.getByLabel('Question')).toBeInViewport();
    await screenshot(page, 'phone');

    await loadModel(page, 'models/demo/');
    await dropFile(page, CHELSEA, 'image/png');
    await ask(page, LONG_QUESTION);
    await expectFollowed(page, 4);
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(lastAnswer(page)).toHaveAttribute('data-state', 'stopped');
  });
});
