/** The app in a Chromium started without --enable-unsafe-webgpu, which gives it no usable WebGPU. */
import { expect, test } from '@playwright/test';
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS } from '../playwright.config.ts';
import { screenshot } from './app-helpers.ts';

test('explains what to try without WebGPU', async ({ baseURL }) => {
  const profile = mkdtempSync(join(tmpdir(), 'trit-no-webgpu-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS.filter((arg) => arg !== '--enable-unsafe-webgpu'),
    baseURL,
  });
  try {
    const page = await context.newPage();
    await page.goto('/');
    const explanation = page.getByRole('alert').filter({ has: page.getByRole('heading', { name: /WebGPU/ }) });
    await expect(explanation).toBeVisible();
    await expect(explanation).toContainText('What to try');
    await expect(explanation).toContainText('--enable-unsafe-webgpu');
    await expect(page.getByLabel('Question')).toHaveCount(0);
    await screenshot(page, 'no-webgpu');
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
