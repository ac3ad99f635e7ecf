/**
 * IndexedDB storage of model packages, in fixed-size chunks so a download resumes from the last
 * stored chunk and a reader never loads a whole shard at once.
 *
 * Database `trit-packages`, three object stores:
 * - `packages`: key → {@link PackageRecord} (manifest, chunk size, completeness).
 * - `files`: [key, file] → {@link FileRecord}, one per shard and one for the tokenizer.
 * - `chunks`: [key, file, index] → the bytes [index · chunkBytes, (index + 1) · chunkBytes) of the
 *   file; only the file's last chunk is shorter.
 *
 * A chunk and its file record's `storedBytes` are written in one transaction, so `storedBytes`
 * always equals the bytes in the chunk store. `complete` is set only after the SHA-256 matched,
 * so a partial or unverified file is never read as a complete one.
 */
import type { PackageManifest } from '../checkpoint/manifest.ts';
import type { CachedModel } from './protocol.ts';
import { StorageQuotaError, StorageUnavailableError, isQuotaExceeded, readStorageInfo } from './errors.ts';

export const DATABASE_NAME = 'trit-packages';
const DATABASE_VERSION = 1;

/** 4 MiB: large enough that IndexedDB overhead per record is small, small enough to buffer while streaming. */
export const DEFAULT_CHUNK_BYTES = 4 * 2 ** 20;

export interface PackageRecord {
  key: string;
  name: string;
  /** The manifest URL for downloaded packages; absent for dropped files. */
  url?: string;
  manifest: PackageManifest;
  chunkBytes: number;
  /** Sum of the shard and tokenizer sizes. */
  totalBytes: number;
  /** True once every file is stored and verified. */
  complete: boolean;
  updatedAt: number;
}

/** A file of the package as the manifest lists it. */
export interface PackageFile {
  file: string;
  bytes: number;
  sha256: string;
}

export interface FileRecord extends PackageFile {
  key: string;
  /** Bytes of the file held in `chunks`, always a whole number of chunks unless the file is complete. */
  storedBytes: number;
  /** True once `storedBytes === bytes` and the SHA-256 over the chunks matched `sha256`. */
  complete: boolean;
}

/** Lists the shards and the tokenizer of a manifest, shards first. */
export function packageFiles(manifest: PackageManifest): PackageFile[] {
  return [
    ...manifest.shards.map((s) => ({ file: s.file, bytes: s.bytes, sha256: s.sha256 })),
    { file: manifest.tokenizer.file, bytes: manifest.tokenizer.bytes, sha256: manifest.tokenizer.sha256 },
  ];
}

function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function transactionDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    // A failed request aborts the transaction; Chromium reports QuotaExceededError only here, at commit.
    tx.onabort = () => reject(tx.error ?? new DOMException('The IndexedDB transaction was aborted.', 'AbortError'));
  });
}

/** Builds the key range of one package's records in `files` or `chunks`: [key] up to [key, []], because arrays sort after all strings. */
function packageRange(key: string): IDBKeyRange {
  return IDBKeyRange.bound([key], [key, []]);
}

function fileChunkRange(key: string, file: string): IDBKeyRange {
  return IDBKeyRange.bound([key, file, 0], [key, file, Number.POSITIVE_INFINITY]);
}

export class PackageStore {
  private constructor(private readonly db: IDBDatabase) {}

  /** Opens the database, raising {@link StorageUnavailableError} where IndexedDB is missing or blocked. */
  static async open(name = DATABASE_NAME): Promise<PackageStore> {
    const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) throw new StorageUnavailableError('indexedDB is not defined here', await readStorageInfo());
    let db: IDBDatabase;
    try {
      const request = factory.open(name, DATABASE_VERSION);
      request.onupgradeneeded = () => {
        const upgrade = request.result;
        if (!upgrade.objectStoreNames.contains('packages')) upgrade.createObjectStore('packages');
        if (!upgrade.objectStoreNames.contains('files')) upgrade.createObjectStore('files');
        if (!upgrade.objectStoreNames.contains('chunks')) upgrade.createObjectStore('chunks');
      };
      db = await requestResult(request);
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new StorageUnavailableError(detail, await readStorageInfo());
    }
    return new PackageStore(db);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Runs `body` in one transaction and waits for it to commit. A `QuotaExceededError` becomes a
   * {@link StorageQuotaError} with the browser's figures; `bytesNeeded` is what the caller still has to store.
   */
  private async run<T>(
    stores: string[],
    mode: IDBTransactionMode,
    body: (tx: IDBTransaction) => Promise<T> | T,
    bytesNeeded = 0,
  ): Promise<T> {
    let tx: IDBTransaction;
    try {
      tx = this.db.transaction(stores, mode);
    } catch (error) {
      throw new StorageUnavailableError(String(error));
    }
    const done = transactionDone(tx);
    try {
      const result = await body(tx);
      await done;
      return result;
    } catch (error) {
      done.catch(() => undefined);
      if (isQuotaExceeded(error)) throw new StorageQuotaError(bytesNeeded, await readStorageInfo());
      throw error;
    }
  }

  getPackage(key: string): Promise<PackageRecord | undefined> {
    return this.run(['packages'], 'readonly', (tx) => requestResult(tx.objectStore('packages').get(key)));
  }

  putPackage(record: PackageRecord): Promise<void> {
    return this.run(['packages'], 'readwrite', (tx) => {
      tx.objectStore('packages').put(record, record.key);
    });
  }

  getFile(key: string, file: string): Promise<FileRecord | undefined> {
    return this.run(['files'], 'readonly', (tx) => requestResult(tx.objectStore('files').get([key, file])));
  }

  /**
   * Returns the record of `file`, creating it when missing. A record whose size or SHA-256 differs
   * from `expected` (the package changed on the server) is reset and its chunks are deleted.
   */
  async prepareFile(key: string, expected: PackageFile): Promise<FileRecord> {
    return this.run(['files', 'chunks'], 'readwrite', async (tx) => {
      const files = tx.objectStore('files');
      const existing = (await requestResult(files.get([key, expected.file]))) as FileRecord | undefined;
      if (existing && existing.bytes === expected.bytes && existing.sha256 === expected.sha256) return existing;
      tx.objectStore('chunks').delete(fileChunkRange(key, expected.file));
      const fresh: FileRecord = { key, ...expected, storedBytes: 0, complete: false };
      files.put(fresh, [key, expected.file]);
      return fresh;
    });
  }

  /** Stores chunk `index` of `file` and advances the file's `storedBytes` in the same transaction. */
  async putChunk(record: FileRecord, index: number, chunkBytes: number, data: Uint8Array): Promise<FileRecord> {
    if (index * chunkBytes !== record.storedBytes) {
      throw new Error(`Chunk ${index} of ${record.file} does not follow the ${record.storedBytes} bytes already stored.`);
    }
    const next: FileRecord = { ...record, storedBytes: record.storedBytes + data.byteLength };
    const remaining = record.bytes - record.storedBytes;
    await this.run(
      ['files', 'chunks'],
      'readwrite',
      (tx) => {
        tx.objectStore('chunks').put(data, [record.key, record.file, index]);
        tx.objectStore('files').put(next, [record.key, record.file]);
      },
      remaining,
    );
    return next;
  }

  async markComplete(record: FileRecord): Promise<FileRecord> {
    const next: FileRecord = { ...record, complete: true };
    await this.run(['files'], 'readwrite', (tx) => {
      tx.objectStore('files').put(next, [record.key, record.file]);
    });
    return next;
  }

  /** Deletes the chunks of `file` and resets its record, as after a SHA-256 mismatch. */
  async discardFile(record: FileRecord): Promise<FileRecord> {
    const fresh: FileRecord = { ...record, storedBytes: 0, complete: false };
    await this.run(['files', 'chunks'], 'readwrite', (tx) => {
      tx.objectStore('chunks').delete(fileChunkRange(record.key, record.file));
      tx.objectStore('files').put(fresh, [record.key, record.file]);
    });
    return fresh;
  }

  /** Returns chunk `index` of `file`, or undefined when it is not stored. */
  async readChunk(key: string, file: string, index: number): Promise<Uint8Array | undefined> {
    const value = await this.run(['chunks'], 'readonly', (tx) =>
      requestResult(tx.objectStore('chunks').get([key, file, index])),
    );
    if (value === undefined) return undefined;
    return value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);
  }

  /** Lists every package with the bytes stored so far and whether it is complete. */
  async list(): Promise<CachedModel[]> {
    return this.run(['packages', 'files'], 'readonly', async (tx) => {
      const packages = (await requestResult(tx.objectStore('packages').getAll())) as PackageRecord[];
      const files = (await requestResult(tx.objectStore('files').getAll())) as FileRecord[];
      return packages.map((p) => {
        const own = files.filter((f) => f.key === p.key);
        const bytes = own.reduce((sum, f) => sum + f.storedBytes, 0);
        return { key: p.key, name: p.name, bytes, complete: p.complete };
      });
    });
  }

  /** Deletes a package with all its chunks; returns false when no such package is stored. */
  async deletePackage(key: string): Promise<boolean> {
    return this.run(['packages', 'files', 'chunks'], 'readwrite', async (tx) => {
      const existing = await requestResult(tx.objectStore('packages').getKey(key));
      tx.objectStore('packages').delete(key);
      tx.objectStore('files').delete(packageRange(key));
      tx.objectStore('chunks').delete(packageRange(key));
      return existing !== undefined;
    });
  }
}
