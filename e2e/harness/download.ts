/**
 * Test page for the package cache: exposes `window.harness`, which drives the model worker
 * through {@link TritClient} and reads the cache directly, for `e2e/package-cache.spec.ts`.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { CachedTensorSource, NetworkTensorSource } from '../../app/worker/cached-source.ts';
import { TritClient, WorkerRequestError } from '../../app/worker/client.ts';
import { fetchManifest, resolvePackageUrl } from '../../app/worker/download.ts';
import { PackageStore } from '../../app/worker/package-store.ts';
import type { LoadProgress, ModelSource } from '../../app/worker/protocol.ts';

export type LoadOutcome =
  | { ok: true; type: string; cacheKey?: string; name?: string; gpuBytes?: number; progress: LoadProgress[] }
  | { ok: false; code: string; message: string; storage?: { usage?: number; quota?: number }; progress: LoadProgress[] };

const client = new TritClient(new Worker(new URL('./storage-worker.ts', import.meta.url), { type: 'module' }));

async function load(source: ModelSource, cache: boolean, pauseAtBytes?: number): Promise<LoadOutcome> {
  const progress: LoadProgress[] = [];
  let pauseSent = false;
  try {
    const result = await client.load(source, {
      cache,
      onProgress: (p) => {
        progress.push(p);
        if (pauseAtBytes !== undefined && !pauseSent && p.bytesDone >= pauseAtBytes) {
          pauseSent = true;
          void client.pauseDownload();
        }
      },
    });
    if (result.type === 'download-paused') return { ok: true, type: result.type, progress };
    return { ok: true, type: result.type, cacheKey: result.cacheKey, name: result.name, gpuBytes: result.gpuBytes, progress };
  } catch (error) {
    if (error instanceof WorkerRequestError) return { ok: false, code: error.code, message: error.message, storage: error.storage, progress };
    return { ok: false, code: 'harness', message: String(error), progress };
  }
}

/** SHA-256 of each named tensor as read from the cache, in the order given. */
async function cachedTensorHashes(key: string, names: string[]): Promise<string[]> {
  const store = await PackageStore.open();
  try {
    const source = await CachedTensorSource.open(store, key);
    const hashes: string[] = [];
    for (const name of names) hashes.push(bytesToHex(sha256(await source.readTensor(name))));
    hashes.push(bytesToHex(sha256(new TextEncoder().encode(await source.readTokenizer()))));
    return hashes;
  } finally {
    store.close();
  }
}

/** The same over the network, without the cache. */
async function networkTensorHashes(url: string, names: string[]): Promise<string[]> {
  const { manifestUrl, folderUrl } = resolvePackageUrl(url);
  const source = new NetworkTensorSource(await fetchManifest(manifestUrl), folderUrl);
  const hashes: string[] = [];
  for (const name of names) hashes.push(bytesToHex(sha256(await source.readTensor(name))));
  await source.finish();
  hashes.push(bytesToHex(sha256(new TextEncoder().encode(await source.readTokenizer()))));
  return hashes;
}

const harness = {
  load: (url: string, cache = true) => load({ kind: 'url', url }, cache),
  loadCached: (key: string) => load({ kind: 'cached', key }, true),
  loadAndPause: (url: string, pauseAtBytes: number) => load({ kind: 'url', url }, true, pauseAtBytes),
  loadFiles: async (url: string, fileNames: string[], cache = true) => {
    const files = await Promise.all(
      // A fixed modification time, as files dropped from disk have.
      fileNames.map(async (name) => new File([await (await fetch(new URL(name, url))).blob()], name, { lastModified: 1_700_000_000_000 })),
    );
    return load({ kind: 'files', files }, cache);
  },
  listCache: () => client.listCache(),
  deleteCache: (key: string) => client.deleteCache(key),
  cachedTensorHashes,
  networkTensorHashes,
  probe: () => client.probe(),
};

declare global {
  interface Window {
    harness: typeof harness;
  }
}
window.harness = harness;
document.body.dataset.ready = 'true';
