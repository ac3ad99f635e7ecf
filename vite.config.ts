import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';

/**
 * Offline app shell: the service worker precaches the built page, scripts and icons. Model
 * packages under `models/` are left out because the worker stores them in IndexedDB.
 */
const pwa = VitePWA({
  registerType: 'autoUpdate',
  injectRegister: false,
  includeAssets: ['icon.svg'],
  manifest: {
    name: 'Trit',
    short_name: 'Trit',
    description: 'Ask a ternary vision-language model about a photo, on your GPU, offline.',
    theme_color: '#2f5fd0',
    background_color: '#f7f7f5',
    display: 'standalone',
    icons: [
      { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
      { src: 'icon-512.png', sizes: '512x512', type: 'image/png' },
      { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml' },
    ],
  },
  workbox: {
    globPatterns: ['**/*.{js,css,html,svg,png,ico,wasm,webmanifest}'],
    globIgnores: ['models/**'],
    navigateFallback: 'index.html',
    // A new service worker takes over at once, including the page that installed it.
    skipWaiting: true,
    clientsClaim: true,
    navigateFallbackDenylist: [/^\/models\//],
    // The worker bundle grows with the engine and may pass workbox's 2 MiB default, and a file
    // left out of the precache breaks offline use.
    maximumFileSizeToCacheInBytes: 32 * 1024 * 1024,
  },
});

export default defineConfig({
  plugins: [react(), ...(process.env.VITEST ? [] : [pwa])],
  worker: { format: 'es' },
  test: {
    include: ['app/**/*.test.ts'],
    // One file at a time: each opens a WebGPU device on a CPU driver that already uses every core.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: {
      VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json',
    },
  },
});
