/**
 * A Vite dev server on 127.0.0.1 for the specs that drive a harness page under `e2e/harness/`,
 * so they need no production build.
 */
import { join } from 'node:path';
import { createServer } from 'vite';

const ROOT = join(import.meta.dirname, '..');

export interface HarnessServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  origin: string;
  /** The harness page's URL. */
  url: string;
  close(): Promise<void>;
}

/** Serves the project root on an ephemeral port; `page` is the harness page, e.g. `e2e/harness/kernel.html`. */
export async function startHarnessServer(page: string): Promise<HarnessServer> {
  const server = await createServer({
    root: ROOT,
    configFile: false,
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    worker: { format: 'es' },
    // Scan only the harness for dependencies, not the app's own entry points.
    optimizeDeps: { entries: [page] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') {
    await server.close();
    throw new Error('The Vite dev server has no TCP address.');
  }
  const origin = `http://127.0.0.1:${address.port}`;
  return { origin, url: `${origin}/${page}`, close: () => server.close() };
}
