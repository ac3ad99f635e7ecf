/**
 * Converts a checkpoint dropped onto the page in the worker, writing the package straight into
 * the IndexedDB cache through the converter's {@link PackageSink}.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { BlobByteSource } from '../checkpoint/bytes.ts';
import { openCheckpointSource } from '../checkpoint/checkpoint.ts';
import { convertCheckpoint, MANIFEST_FILE, type PackageSink } from '../checkpoint/convert.ts';
import type { PackageManifest } from '../checkpoint/manifest.ts';
import type { LoadProgress } from './protocol.ts';
import { BadPackageError, CorruptShardError } from './errors.ts';
import { filesByName } from './dropped.ts';
import { DEFAULT_CHUNK_BYTES, packageFiles, type FileRecord, type PackageStore } from './package-store.ts';
import { parseManifest } from './validate-manifest.ts';

/**
 * A {@link PackageSink} over the package store. Each file is split into chunks as a download is,
 * and its SHA-256 is computed here. `commit` checks those hashes against the manifest the converter
 * wrote and only then records the package as complete, so an interrupted conversion never shows
 * up as a usable model.
 */
export class IndexedDbPackageSink implements PackageSink {
  private readonly stored = new Map<string, FileRecord>();
  private manifest: PackageManifest | undefined;

  constructor(
    private readonly store: PackageStore,
    readonly key: string,
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {}

  /** Deletes what an earlier, interrupted conversion under the same key left behind. */
  async begin(): Promise<void> {
    await this.store.deletePackage(this.key);
  }

  async writeFile(name: string, bytes: Uint8Array): Promise<void> {
    if (name === MANIFEST_FILE) {
      this.manifest = parseManifest(new TextDecoder().decode(bytes), `The converted ${MANIFEST_FILE}`);
      return;
    }
    const digest = bytesToHex(sha256(bytes));
    let record = await this.store.prepareFile(this.key, { file: name, bytes: bytes.byteLength, sha256: digest });
    if (record.storedBytes > 0) record = await this.store.discardFile(record);
    for (let index = 0; index * this.chunkBytes < bytes.byteLength; index++) {
      const chunk = bytes.subarray(index * this.chunkBytes, Math.min((index + 1) * this.chunkBytes, bytes.byteLength));
      record = await this.store.putChunk(record, index, this.chunkBytes, chunk);
    }
    this.stored.set(name, await this.store.markComplete(record));
  }

  async commit(): Promise<void> {
    const manifest = this.manifest;
    if (!manifest) throw new BadPackageError(`The converter finished without writing ${MANIFEST_FILE}; nothing was cached.`);
    for (const file of packageFiles(manifest)) {
      const record = this.stored.get(file.file);
      if (!record) throw new BadPackageError(`The converter listed ${file.file} in the manifest but never wrote it; nothing was cached.`);
      if (record.sha256 !== file.sha256) throw new CorruptShardError(file.file, file.sha256, record.sha256, 1);
    }
    const totalBytes = packageFiles(manifest).reduce((sum, f) => sum + f.bytes, 0);
    await this.store.putPackage({
      key: this.key,
      name: manifest.name,
      manifest,
      chunkBytes: this.chunkBytes,
      totalBytes,
      complete: true,
      updatedAt: Date.now(),
    });
  }

  async abort(): Promise<void> {
    await this.store.deletePackage(this.key);
  }
}

/**
 * A {@link PackageSink} that keeps the converted files as Blobs, for conversions with caching off.
 * Chromium may keep large Blobs on disk rather than in memory, but that is the browser's choice.
 */
export class BlobPackageSink implements PackageSink {
  readonly files = new Map<string, File>();

  async writeFile(name: string, bytes: Uint8Array): Promise<void> {
    this.files.set(name, new File([bytes as Uint8Array<ArrayBuffer>], name));
  }

  async commit(): Promise<void> {}

  async abort(): Promise<void> {
    this.files.clear();
  }
}

/** Picks the file the checkpoint reader starts from: a safetensors index, a safetensors file, or a torch `.bin`. */
function checkpointEntry(byName: Map<string, File>): File {
  const names = [...byName.keys()];
  const pick =
    names.find((n) => n.endsWith('.safetensors.index.json')) ??
    names.find((n) => n.endsWith('.safetensors')) ??
    names.find((n) => n.endsWith('.bin'));
  if (!pick) throw new BadPackageError('The dropped files contain no .safetensors or .bin weights. Drop the checkpoint folder.');
  return byName.get(pick)!;
}

/** Cache key of a converted checkpoint, from its weights file's name, size and modification time. */
export function convertedCacheKey(entry: File): string {
  return `converted:${entry.name}:${entry.size}:${entry.lastModified}`;
}

/** Reads `config.json`, the tokenizer and the weights of a dropped checkpoint and runs the converter into `sink`. */
async function convertDropped(
  byName: Map<string, File>,
  entry: File,
  sink: PackageSink,
  onProgress?: (progress: LoadProgress) => void,
): Promise<PackageManifest> {
  const configFile = byName.get('config.json');
  const tokenizerFile = byName.get('tokenizer.json');
  if (!configFile) throw new BadPackageError('The dropped checkpoint has no config.json. Drop it together with the weights.');
  if (!tokenizerFile) throw new BadPackageError('The dropped checkpoint has no tokenizer.json. Drop it together with the weights.');
  let config: unknown;
  try {
    config = JSON.parse(await configFile.text());
  } catch (error) {
    throw new BadPackageError(`The dropped config.json is not valid JSON (${(error as Error).message}). Drop the config.json that came with the checkpoint.`);
  }

  const checkpoint = await openCheckpointSource(new BlobByteSource(entry), async (name) => {
    const sibling = byName.get(name);
    if (!sibling) throw new BadPackageError(`The checkpoint index names ${name}, which was not dropped. Drop the whole checkpoint folder.`);
    return new BlobByteSource(sibling);
  });
  const started = performance.now();
  try {
    const nameOrPath = (config as { _name_or_path?: unknown })._name_or_path;
    return await convertCheckpoint(checkpoint, config, sink, {
      name: typeof nameOrPath === 'string' && nameOrPath ? nameOrPath : entry.name,
      tokenizer: new Uint8Array(await tokenizerFile.arrayBuffer()),
      onProgress: (p) => {
        const seconds = (performance.now() - started) / 1000;
        onProgress?.({
          phase: 'convert',
          bytesDone: p.bytesRead,
          bytesTotal: p.bytesTotal,
          bytesPerSecond: seconds > 0 ? Math.round(p.bytesRead / seconds) : 0,
        });
      },
    });
  } finally {
    await checkpoint.close();
  }
}

/**
 * Converts a dropped checkpoint (weights plus `config.json` and `tokenizer.json`) into the cache
 * and returns its key. A checkpoint converted before is found by its key and not converted again.
 */
export async function convertDroppedCheckpoint(
  files: File[],
  store: PackageStore,
  onProgress?: (progress: LoadProgress) => void,
): Promise<{ key: string; manifest: PackageManifest }> {
  const byName = filesByName(files);
  const entry = checkpointEntry(byName);
  const key = convertedCacheKey(entry);
  const existing = await store.getPackage(key);
  if (existing?.complete) return { key, manifest: existing.manifest };

  const sink = new IndexedDbPackageSink(store, key);
  await sink.begin();
  const manifest = await convertDropped(byName, entry, sink, onProgress);
  return { key, manifest };
}

/** Converts a dropped checkpoint without caching; the package files stay in Blobs for this session. */
export async function convertDroppedCheckpointToBlobs(
  files: File[],
  onProgress?: (progress: LoadProgress) => void,
): Promise<{ manifest: PackageManifest; byName: Map<string, File> }> {
  const byName = filesByName(files);
  const sink = new BlobPackageSink();
  const manifest = await convertDropped(byName, checkpointEntry(byName), sink, onProgress);
  return { manifest, byName: sink.files };
}
