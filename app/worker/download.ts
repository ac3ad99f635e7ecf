/**
 * Streams a package's shards and tokenizer into the {@link PackageStore}, a few files at a time,
 * verifying each file's SHA-256 before marking it complete.
 *
 * The hash runs incrementally over the chunks with `@noble/hashes`, because `crypto.subtle.digest`
 * takes only a whole buffer, and holding a shard of several hundred MiB just to hash it would
 * double the memory the download needs. After a reload the stored chunks are read back and hashed
 * again before the download continues, since a hash state cannot be stored.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { PackageManifest } from '../checkpoint/manifest.ts';
import type { LoadProgress } from './protocol.ts';
import { CorruptShardError, DownloadError, DownloadPausedError, PackageNotFoundError, StorageQuotaError, WorkerFailure } from './errors.ts';
import { DEFAULT_CHUNK_BYTES, PackageStore, packageFiles, type FileRecord, type PackageFile } from './package-store.ts';
import { ProgressMeter } from './progress.ts';
import { parseManifest } from './validate-manifest.ts';

export interface StoreOptions {
  store: PackageStore;
  /** Files fetched at once. */
  concurrency?: number;
  /** Chunk size for a package stored for the first time; a stored package keeps its own. */
  chunkBytes?: number;
  /** Network failures tolerated per file before the load fails with a `download` error. */
  maxRetries?: number;
  /** Re-downloads of a file whose SHA-256 did not match, before the load fails with `corrupt-shard`. */
  maxCorruptRetries?: number;
  /** Delay before the first network retry; it doubles with each further one. */
  retryDelayMs?: number;
  /** Aborting pauses the load: it rejects with {@link DownloadPausedError} and keeps every stored chunk. */
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

/** Source of the bytes of a package's files: the network, or files dropped onto the page. */
export interface ByteSource {
  /** Describes the file for error messages, e.g. its URL. */
  describe(file: PackageFile): string;
  /**
   * Returns a stream of `file` from byte `offset` to its end. `skip` is the count of leading bytes
   * the caller must drop, for a server that ignored the Range header and sent the whole file.
   */
  open(file: PackageFile, offset: number, signal: AbortSignal): Promise<{ stream: ReadableStream<Uint8Array>; skip: number }>;
}

/** A failure worth retrying: the connection dropped, the server had a transient error, or the body ended early. */
class TransientError extends Error {
  override name = 'TransientError';
}

const DEFAULTS = { concurrency: 3, maxRetries: 4, maxCorruptRetries: 2, retryDelayMs: 500 };

/** Resolves a package URL (its folder or its `manifest.json`) to the manifest URL and the folder URL. */
export function resolvePackageUrl(url: string, base = globalThis.location?.href): { manifestUrl: string; folderUrl: string } {
  const absolute = new URL(url, base);
  if (absolute.pathname.endsWith('.json')) {
    return { manifestUrl: absolute.href, folderUrl: new URL('.', absolute).href };
  }
  if (!absolute.pathname.endsWith('/')) absolute.pathname += '/';
  return { manifestUrl: new URL('manifest.json', absolute).href, folderUrl: absolute.href };
}

/** Returns the cache key of a downloaded package, which is `url:` followed by its manifest URL. */
export function urlCacheKey(manifestUrl: string): string {
  return `url:${manifestUrl}`;
}

/** Reads files over HTTP from `folderUrl`, resuming with `Range: bytes=offset-`. */
export function httpByteSource(folderUrl: string, fetchImpl: typeof fetch = fetch): ByteSource {
  return {
    describe: (file) => new URL(file.file, folderUrl).href,
    async open(file, offset, signal) {
      const url = new URL(file.file, folderUrl).href;
      const headers: HeadersInit = offset > 0 ? { Range: `bytes=${offset}-` } : {};
      let response: Response;
      try {
        response = await fetchImpl(url, { headers, signal, cache: 'no-store' });
      } catch (error) {
        if (signal.aborted) throw error;
        throw new TransientError(`the request failed (${(error as Error).message})`);
      }
      if (response.status === 206) {
        const range = response.headers.get('Content-Range');
        const start = range ? Number(/^bytes (\d+)-/.exec(range)?.[1]) : Number.NaN;
        if (start !== offset) {
          await response.body?.cancel();
          throw new DownloadError(url, `the server returned the range from byte ${offset} with Content-Range ${JSON.stringify(range)}`);
        }
      } else if (!response.ok) {
        await response.body?.cancel();
        const detail = `the server returned HTTP ${response.status} ${response.statusText}`.trim();
        if (response.status >= 500 || response.status === 408 || response.status === 429) throw new TransientError(detail);
        throw new DownloadError(url, detail);
      }
      if (!response.body) throw new TransientError('the response has no body');
      return { stream: response.body, skip: response.status === 206 ? 0 : offset };
    },
  };
}

/** Reads dropped files by name; `File.slice` makes resuming from an offset free. */
export function fileByteSource(files: Map<string, File>): ByteSource {
  return {
    describe: (file) => `dropped file ${file.file}`,
    async open(file, offset) {
      const blob = files.get(file.file);
      if (!blob) throw new DownloadError(file.file, 'the file is not among the dropped files');
      return { stream: blob.slice(offset).stream() as ReadableStream<Uint8Array>, skip: 0 };
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

interface Job {
  store: PackageStore;
  key: string;
  chunkBytes: number;
  source: ByteSource;
  signal: AbortSignal;
  meter: ProgressMeter;
  maxRetries: number;
  maxCorruptRetries: number;
  retryDelayMs: number;
}

/**
 * Stores the chunks of `record` from `offset` on, feeding each stored chunk to `hash`. Returns the
 * updated record. Bytes of a chunk that was not yet full when the stream failed are dropped, so
 * the next attempt restarts at the chunk boundary.
 */
async function streamFile(job: Job, record: FileRecord, hash: ReturnType<typeof sha256.create>): Promise<FileRecord> {
  const { stream, skip } = await job.source.open(record, record.storedBytes, job.signal);
  const reader = stream.getReader();
  let toSkip = skip;
  let current = record;
  const chunkLength = () => Math.min(job.chunkBytes, current.bytes - current.storedBytes);
  let buffer = new Uint8Array(chunkLength());
  let filled = 0;

  try {
    while (current.storedBytes < current.bytes) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        if (job.signal.aborted) throw error;
        throw new TransientError(`the connection dropped (${(error as Error).message})`);
      }
      if (result.done) {
        throw new TransientError(`the body ended at byte ${current.storedBytes + filled} of ${current.bytes}`);
      }
      let bytes = result.value;
      if (toSkip > 0) {
        const dropped = Math.min(toSkip, bytes.byteLength);
        bytes = bytes.subarray(dropped);
        toSkip -= dropped;
      }
      while (bytes.byteLength > 0 && current.storedBytes < current.bytes) {
        const take = Math.min(bytes.byteLength, buffer.byteLength - filled);
        buffer.set(bytes.subarray(0, take), filled);
        filled += take;
        bytes = bytes.subarray(take);
        job.meter.add(current.file, take);
        if (filled === buffer.byteLength) {
          const index = current.storedBytes / job.chunkBytes;
          current = await job.store.putChunk(current, index, job.chunkBytes, buffer);
          hash.update(buffer);
          filled = 0;
          if (current.storedBytes < current.bytes) buffer = new Uint8Array(chunkLength());
        }
      }
    }
  } catch (error) {
    // Bytes of the unfinished chunk were counted as done; take them back so the totals stay true.
    job.meter.set(current.file, current.storedBytes);
    throw error;
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return current;
}

/** Stores and verifies one file, resuming from its stored chunks and retrying as the options allow. */
async function storeFile(job: Job, file: PackageFile): Promise<void> {
  let record = await job.store.prepareFile(job.key, file);
  job.meter.set(file.file, record.storedBytes);
  if (record.complete) return;

  for (let attempt = 1; ; attempt++) {
    // Hash what earlier sessions stored; the hash state of an interrupted download is gone.
    const hash = sha256.create();
    const storedChunks = Math.ceil(record.storedBytes / job.chunkBytes);
    for (let index = 0; index < storedChunks; index++) {
      const chunk = await job.store.readChunk(job.key, file.file, index);
      if (!chunk) throw new Error(`Chunk ${index} of ${file.file} is missing from the cache although its record counts it. Delete the cached model and load it again.`);
      hash.update(chunk);
    }

    let failures = 0;
    while (record.storedBytes < record.bytes) {
      try {
        record = await streamFile(job, record, hash);
      } catch (error) {
        if (!(error instanceof TransientError)) throw error;
        // The chunks stored before the failure stay; continue after them.
        record = (await job.store.getFile(job.key, file.file)) ?? record;
        failures++;
        if (failures > job.maxRetries) {
          throw new DownloadError(job.source.describe(file), `${error.message}, ${failures} times`);
        }
        console.warn(`Retrying ${job.source.describe(file)} from byte ${record.storedBytes} (failure ${failures}): ${error.message}`);
        await sleep(job.retryDelayMs * 2 ** (failures - 1), job.signal);
      }
    }

    const actual = bytesToHex(hash.digest());
    if (actual === file.sha256) {
      await job.store.markComplete(record);
      return;
    }
    console.warn(`SHA-256 of ${job.source.describe(file)} is ${actual}, expected ${file.sha256}; discarding it (attempt ${attempt}).`);
    record = await job.store.discardFile(record);
    job.meter.set(file.file, 0);
    if (attempt > job.maxCorruptRetries) throw new CorruptShardError(file.file, file.sha256, actual, attempt);
  }
}

/** Runs `work` over `items` with at most `limit` at once; the first failure aborts the rest. */
async function runPool<T>(items: T[], limit: number, controller: AbortController, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length && firstError === undefined) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        if (firstError === undefined) {
          firstError = error;
          controller.abort(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
}

/**
 * Stores every file of `manifest` under `key`, skipping verified ones and resuming partial ones.
 * Rejects with {@link DownloadPausedError} when `options.signal` aborts, and with a
 * {@link WorkerFailure} otherwise; chunks already stored are kept in both cases.
 */
export async function storePackage(
  key: string,
  manifest: PackageManifest,
  source: ByteSource,
  options: StoreOptions & { url?: string },
): Promise<void> {
  const { store } = options;
  const existing = await store.getPackage(key);
  const chunkBytes = existing?.chunkBytes ?? options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const files = packageFiles(manifest);
  const totalBytes = files.reduce((sum, f) => sum + f.bytes, 0);
  const record = { key, name: manifest.name, url: options.url, manifest, chunkBytes, totalBytes, complete: false, updatedAt: Date.now() };
  await store.putPackage(record);

  const controller = new AbortController();
  const pause = () => controller.abort(new DownloadPausedError());
  if (options.signal?.aborted) pause();
  options.signal?.addEventListener('abort', pause, { once: true });

  const meter = new ProgressMeter('download', files, (p) => options.onProgress?.(p));
  const job: Job = {
    store,
    key,
    chunkBytes,
    source,
    signal: controller.signal,
    meter,
    maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
    maxCorruptRetries: options.maxCorruptRetries ?? DEFAULTS.maxCorruptRetries,
    retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs,
  };
  try {
    await runPool(files, options.concurrency ?? DEFAULTS.concurrency, controller, (file) => storeFile(job, file));
  } catch (error) {
    meter.flush();
    if (controller.signal.reason instanceof DownloadPausedError && !(error instanceof WorkerFailure)) throw controller.signal.reason;
    if (error instanceof StorageQuotaError) {
      // The store reports only the file it was writing, so report what the whole package still needs.
      const { bytesDone, bytesTotal } = meter.snapshot();
      throw new StorageQuotaError(bytesTotal - bytesDone, error.storage ?? {});
    }
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', pause);
  }
  meter.flush();
  await store.putPackage({ ...record, complete: true, updatedAt: Date.now() });
}

/** Returns the URL to name when no package is found: the folder for `.../manifest.json`, else the manifest itself. */
function packageUrlOf(manifestUrl: string): string {
  return manifestUrl.endsWith('/manifest.json') ? manifestUrl.slice(0, -'manifest.json'.length) : manifestUrl;
}

/**
 * Fetches and parses `manifest.json`; network failures are `TypeError`s the caller may fall back from.
 * A 404 or 410, or a web page in place of JSON (servers of single-page apps send their index.html
 * for unknown paths), rejects with {@link PackageNotFoundError}.
 */
export async function fetchManifest(manifestUrl: string, signal?: AbortSignal): Promise<PackageManifest> {
  const response = await fetch(manifestUrl, { signal, cache: 'no-cache' });
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    throw new PackageNotFoundError(packageUrlOf(manifestUrl), `HTTP ${response.status}`);
  }
  if (!response.ok) throw new DownloadError(manifestUrl, `the server returned HTTP ${response.status} ${response.statusText}`.trim());
  const type = response.headers.get('Content-Type') ?? '';
  const text = await response.text();
  if (/^text\/html\b/i.test(type) || /^\s*<(!doctype|html)\b/i.test(text)) {
    throw new PackageNotFoundError(packageUrlOf(manifestUrl), 'the server returned a web page');
  }
  return parseManifest(text, manifestUrl);
}

/**
 * Downloads the package at `url` into the store and returns its cache key and manifest. When the
 * manifest cannot be fetched because the network is down, a complete cached copy is used instead.
 */
export async function downloadPackage(url: string, options: StoreOptions): Promise<{ key: string; manifest: PackageManifest }> {
  const { manifestUrl, folderUrl } = resolvePackageUrl(url);
  const key = urlCacheKey(manifestUrl);
  let manifest: PackageManifest;
  try {
    manifest = await fetchManifest(manifestUrl, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw new DownloadPausedError();
    if (!(error instanceof TypeError)) throw error;
    const cached = await options.store.getPackage(key);
    if (cached?.complete) return { key, manifest: cached.manifest };
    throw new DownloadError(manifestUrl, `the request failed (${error.message})`);
  }
  await storePackage(key, manifest, httpByteSource(folderUrl), { ...options, url: manifestUrl });
  return { key, manifest };
}
