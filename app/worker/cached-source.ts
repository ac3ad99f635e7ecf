/**
 * {@link TensorSource}s for the worker: over the IndexedDB cache, over dropped files, and over the
 * network when caching is off. Each returns one tensor at a time, so the model loader can upload
 * it and drop it before it requests the next. None of them keeps a whole shard in memory.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { PackageManifest, TensorEntry, TensorSource } from '../checkpoint/manifest.ts';
import { BadPackageError, CorruptShardError, DownloadError } from './errors.ts';
import type { PackageStore } from './package-store.ts';

function tensorEntry(manifest: PackageManifest, name: string): TensorEntry {
  const entry = manifest.tensors[name];
  if (!entry) throw new BadPackageError(`Tensor ${name} is not in the package ${manifest.name}. Convert the checkpoint again with \`trit convert\`.`);
  return entry;
}

/** Reads tensors from the chunks of a complete cached package. */
export class CachedTensorSource implements TensorSource {
  /** The chunk read last; consecutive tensors usually share it. */
  private recent: { file: string; index: number; bytes: Uint8Array } | undefined;

  private constructor(
    private readonly store: PackageStore,
    readonly key: string,
    readonly manifest: PackageManifest,
    private readonly chunkBytes: number,
  ) {}

  /** Opens the cached package `key`, rejecting a missing or incomplete one. */
  static async open(store: PackageStore, key: string): Promise<CachedTensorSource> {
    const record = await store.getPackage(key);
    if (!record) throw new BadPackageError(`No cached model has the key ${key}. List the cache to see the stored models, or load it from its URL.`);
    if (!record.complete) {
      throw new BadPackageError(`The cached model ${record.name} is only partly downloaded. Load it from its URL to finish the download.`);
    }
    return new CachedTensorSource(store, key, record.manifest, record.chunkBytes);
  }

  readTensor(name: string): Promise<Uint8Array> {
    const entry = tensorEntry(this.manifest, name);
    return this.readRange(this.manifest.shards[entry.shard].file, entry.offset, entry.bytes);
  }

  async readTokenizer(): Promise<string> {
    const { file, bytes } = this.manifest.tokenizer;
    return new TextDecoder().decode(await this.readRange(file, 0, bytes));
  }

  /** Copies bytes [offset, offset + length) of `file` out of its chunks. */
  async readRange(file: string, offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const first = Math.floor(offset / this.chunkBytes);
    const last = Math.floor((offset + length - 1) / this.chunkBytes);
    for (let index = first; index <= last; index++) {
      const chunk = await this.chunk(file, index);
      const chunkStart = index * this.chunkBytes;
      const from = Math.max(offset, chunkStart) - chunkStart;
      const to = Math.min(offset + length, chunkStart + chunk.byteLength) - chunkStart;
      if (to <= from) throw new BadPackageError(`Chunk ${index} of the cached ${file} is shorter than the manifest says. Delete the cached model and load it again.`);
      out.set(chunk.subarray(from, to), chunkStart + from - offset);
    }
    return out;
  }

  private async chunk(file: string, index: number): Promise<Uint8Array> {
    if (this.recent?.file === file && this.recent.index === index) return this.recent.bytes;
    const bytes = await this.store.readChunk(this.key, file, index);
    if (!bytes) throw new BadPackageError(`Chunk ${index} of the cached ${file} is missing. Delete the cached model and load it again.`);
    this.recent = { file, index, bytes };
    return bytes;
  }
}

/** Reads tensors straight from dropped package files, which were verified before this source was made. */
export class FileTensorSource implements TensorSource {
  constructor(
    readonly manifest: PackageManifest,
    private readonly files: Map<string, File>,
  ) {}

  async readTensor(name: string): Promise<Uint8Array> {
    const entry = tensorEntry(this.manifest, name);
    const file = this.file(this.manifest.shards[entry.shard].file);
    return new Uint8Array(await file.slice(entry.offset, entry.offset + entry.bytes).arrayBuffer());
  }

  readTokenizer(): Promise<string> {
    return this.file(this.manifest.tokenizer.file).text();
  }

  private file(name: string): File {
    const file = this.files.get(name);
    if (!file) throw new BadPackageError(`The dropped package has no file ${name}. Drop the whole package folder.`);
    return file;
  }
}

/** One shard being read front to back, hashing every byte that passes. */
interface ShardStream {
  shard: number;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  position: number;
  pending: Uint8Array;
  hash: ReturnType<typeof sha256.create>;
}

/**
 * Streams shards over HTTP without storing them, for loads with caching off. Tensors asked for in
 * shard order come from one request per shard, and each shard's SHA-256 is checked when the
 * reader moves past it or when {@link finish} is called.
 *
 * NOTE: a tensor that lies before the stream's position (asked for out of order) is fetched with
 * its own Range request, and its shard's hash then covers only the bytes that passed the stream,
 * so that shard is not verified.
 */
export class NetworkTensorSource implements TensorSource {
  private current: ShardStream | undefined;
  private readonly unverified = new Set<number>();

  constructor(
    readonly manifest: PackageManifest,
    private readonly folderUrl: string,
    private readonly signal?: AbortSignal,
  ) {}

  private url(file: string): string {
    return new URL(file, this.folderUrl).href;
  }

  async readTensor(name: string): Promise<Uint8Array> {
    const entry = tensorEntry(this.manifest, name);
    if (this.current && (entry.shard < this.current.shard || (entry.shard === this.current.shard && entry.offset < this.current.position))) {
      this.unverified.add(entry.shard);
      return this.fetchRange(this.manifest.shards[entry.shard].file, entry.offset, entry.bytes);
    }
    if (this.current?.shard !== entry.shard) {
      await this.finishCurrent();
      this.current = await this.openShard(entry.shard);
    }
    const stream = this.current!;
    await this.skip(stream, entry.offset - stream.position);
    return this.take(stream, entry.bytes);
  }

  async readTokenizer(): Promise<string> {
    const { file, bytes, sha256: expected } = this.manifest.tokenizer;
    const data = await this.fetchRange(file, 0, bytes);
    const actual = bytesToHex(sha256(data));
    if (actual !== expected) throw new CorruptShardError(file, expected, actual, 1);
    return new TextDecoder().decode(data);
  }

  /** Reads the rest of the shard being streamed and checks its SHA-256; call it after the last tensor. */
  async finish(): Promise<void> {
    await this.finishCurrent();
  }

  private async openShard(shard: number): Promise<ShardStream> {
    const url = this.url(this.manifest.shards[shard].file);
    let response: Response;
    try {
      response = await fetch(url, { signal: this.signal, cache: 'no-store' });
    } catch (error) {
      throw new DownloadError(url, `the request failed (${(error as Error).message})`);
    }
    if (!response.ok || !response.body) throw new DownloadError(url, `the server returned HTTP ${response.status}`);
    return { shard, reader: response.body.getReader(), position: 0, pending: new Uint8Array(0), hash: sha256.create() };
  }

  /** Returns the next `length` bytes of the stream, hashing them. */
  private async take(stream: ShardStream, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (stream.pending.byteLength === 0) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await stream.reader.read();
        } catch (error) {
          throw new DownloadError(this.url(this.manifest.shards[stream.shard].file), `the connection dropped (${(error as Error).message})`);
        }
        if (result.done) {
          throw new DownloadError(this.url(this.manifest.shards[stream.shard].file), `the body ended at byte ${stream.position}`);
        }
        stream.pending = result.value;
      }
      const part = stream.pending.subarray(0, Math.min(length - filled, stream.pending.byteLength));
      out.set(part, filled);
      stream.hash.update(part);
      filled += part.byteLength;
      stream.position += part.byteLength;
      stream.pending = stream.pending.subarray(part.byteLength);
    }
    return out;
  }

  /** Hashes and drops the next `length` bytes of the stream, in slices so a large gap is never held whole. */
  private async skip(stream: ShardStream, length: number): Promise<void> {
    const end = stream.position + length;
    while (stream.position < end) await this.take(stream, Math.min(4 * 2 ** 20, end - stream.position));
  }

  private async finishCurrent(): Promise<void> {
    const stream = this.current;
    if (!stream) return;
    this.current = undefined;
    const shard = this.manifest.shards[stream.shard];
    await this.skip(stream, shard.bytes - stream.position);
    stream.reader.cancel().catch(() => undefined);
    if (this.unverified.has(stream.shard)) return;
    const actual = bytesToHex(stream.hash.digest());
    if (actual !== shard.sha256) throw new CorruptShardError(shard.file, shard.sha256, actual, 1);
  }

  private async fetchRange(file: string, offset: number, length: number): Promise<Uint8Array> {
    const url = this.url(file);
    if (length === 0) return new Uint8Array(0);
    let response: Response;
    try {
      response = await fetch(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` }, signal: this.signal, cache: 'no-store' });
    } catch (error) {
      throw new DownloadError(url, `the request failed (${(error as Error).message})`);
    }
    if (!response.ok) throw new DownloadError(url, `the server returned HTTP ${response.status}`);
    const body = new Uint8Array(await response.arrayBuffer());
    // A server that ignores Range sends the whole file.
    const data = response.status === 206 ? body : body.subarray(offset, offset + length);
    if (data.byteLength !== length) throw new DownloadError(url, `expected ${length} bytes from byte ${offset}, got ${data.byteLength}`);
    return data;
  }
}
