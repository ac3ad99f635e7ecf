import { defineConfig } from '@playwright/test';

/** Debian's Chromium; Playwright's own browser downloads are not used. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];
/** Port of the preview server; set TRIT_E2E_PORT to run beside another preview server. */
export const PORT = Number(process.env.TRIT_E2E_PORT ?? 4173);
/** Build folder; a separate one beside another preview server, so neither build overwrites the other. */
const OUT_DIR = process.env.TRIT_E2E_PORT ? `dist-e2e-${PORT}` : 'dist';
/** Vite rejects a second preview server of one project without --bypass-lock. */
const PREVIEW_FLAGS = process.env.TRIT_E2E_PORT ? ' --bypass-lock' : '';

export default defineConfig({
  testDir: 'e2e',
  timeout: 300_000,
  expect: { timeout: 60_000 },
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
    trace: 'off',
  },
  webServer: {
    command: `npx vite build --outDir ${OUT_DIR} && npx vite preview --outDir ${OUT_DIR} --host 127.0.0.1 --port ${PORT} --strictPort${PREVIEW_FLAGS}`,
    url: `http://127.0.0.1:${PORT}`,
    timeout: 300_000,
    reuseExistingServer: !process.env.CI,
  },
});
