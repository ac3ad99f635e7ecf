/**
 * The converter: turns a checkpoint plus `config.json` into a package (`manifest.json`, safetensors
 * shards of about `shardBytes` each, `tokenizer.json`). The same code runs under Node (`trit convert`,
 * writing files) and in the worker (writing to IndexedDB); each provides a `PackageSink`.
 *
 * Memory stays bounded: tensors are read one at a time, and at most one shard is assembled before
 * it is written. A tensor larger than `shardBytes` (the embedding) gets a shard of its own.
 */
import { TERNARY_PACKING, packTernary, ternarize } from '../engine/ternary/pack.ts';
import { numelOf, readFloats, type Checkpoint } from './checkpoint.ts';
import { DTYPE_BYTES, decodeFloats, isFloatDtype, numberToF16Bits } from './dtypes.ts';
import { UnsupportedCheckpointError } from './errors.ts';
import { resolveLayout, type PlannedTensor } from './layout.ts';
import {
  DEFAULT_CHAT_TEMPLATE,
  PACKAGE_FORMAT,
  PACKAGE_FORMAT_VERSION,
  type ChatTemplate,
  type PackageManifest,
  type ShardEntry,
  type TensorEntry,
} from './manifest.ts';

/** Where a package's files go. Files are written once each; nothing is visible until `commit`. */
export interface PackageSink {
  /** Writes file `name` (relative to the package root, no folders) with `bytes`. */
  writeFile(name: string, bytes: Uint8Array): Promise<void>;
  /** Makes the package visible as a whole; called once, after `manifest.json`. */
  commit(): Promise<void>;
  /** Removes everything written so far; called when conversion fails. */
  abort(): Promise<void>;
}

export interface ConvertProgress {
  /** Canonical name of the tensor just written to the current shard. */
  tensor: string;
  /** Tensors done and in total. */
  done: number;
  total: number;
  /** Checkpoint bytes read so far and in total (over the packaged tensors). */
  bytesRead: number;
  bytesTotal: number;
}

export interface ConvertOptions {
  /** Package name shown in the app, e.g. "IntelLabs/LlavaOLMoBitnet1B". */
  name: string;
  /** Contents of `tokenizer.json`. */
  tokenizer: Uint8Array;
  /** Marks a package with random weights, whose answers are noise. */
  randomWeights?: boolean;
  /** Target shard size in bytes; default 32 MiB. */
  shardBytes?: number;
  chatTemplate?: ChatTemplate;
  onProgress?: (progress: ConvertProgress) => void;
  /** Receives each warning (unexpected tensors) once. */
  onWarning?: (message: string) => void;
}

export const DEFAULT_SHARD_BYTES = 32 * 1024 * 1024;
export const MANIFEST_FILE = 'manifest.json';
export const TOKENIZER_FILE = 'tokenizer.json';

/** Elements converted per step when narrowing to f16, so no f32 copy of a whole tensor is made. */
const F16_CHUNK = 1 << 20;

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Produces the stored bytes of one tensor and its manifest fields (without placement). */
async function encodeTensor(planned: PlannedTensor): Promise<{ bytes: Uint8Array; entry: Omit<TensorEntry, 'shard' | 'offset' | 'bytes'> }> {
  const { source, storage } = planned;
  const shape = [...source.shape];
  if (!isFloatDtype(source.dtype)) {
    throw new UnsupportedCheckpointError(`Tensor "${source.name}" has dtype ${source.dtype}; the model's weights must be bf16, f16, f32 or f64.`);
  }
  if (storage === 'ternary') {
    const [rows, cols] = shape;
    const { codes, sw } = ternarize(await readFloats(source));
    const words = packTernary(codes, rows, cols);
    return { bytes: new Uint8Array(words.buffer), entry: { dtype: 'ternary2', shape, packing: TERNARY_PACKING, scale: sw } };
  }
  if (storage === 'f32') {
    const floats = await readFloats(source);
    const f32 = floats instanceof Float32Array ? floats : Float32Array.from(floats);
    return { bytes: new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength), entry: { dtype: 'f32', shape } };
  }
  const raw = await source.readBytes();
  const item = DTYPE_BYTES[source.dtype];
  const count = numelOf(shape);
  const half = new Uint16Array(count);
  if (source.dtype === 'f16') {
    half.set(new Uint16Array(raw.slice().buffer));
  } else {
    for (let start = 0; start < count; start += F16_CHUNK) {
      const end = Math.min(count, start + F16_CHUNK);
      const floats = decodeFloats(source.dtype, raw.subarray(start * item, end * item));
      for (let i = 0; i < floats.length; i++) half[start + i] = numberToF16Bits(floats[i]);
    }
  }
  return { bytes: new Uint8Array(half.buffer), entry: { dtype: 'f16', shape } };
}

const SAFETENSORS_DTYPE = { f16: 'F16', f32: 'F32', ternary2: 'U32' } as const;

/** Collects tensors into safetensors shards, writing one whenever the next tensor would overflow it. */
class ShardWriter {
  readonly shards: ShardEntry[] = [];
  private parts: { name: string; entry: Omit<TensorEntry, 'shard' | 'offset' | 'bytes'>; bytes: Uint8Array }[] = [];
  private size = 0;

  constructor(
    private readonly sink: PackageSink,
    private readonly shardBytes: number,
    private readonly tensors: Record<string, TensorEntry>,
  ) {}

  async add(name: string, entry: Omit<TensorEntry, 'shard' | 'offset' | 'bytes'>, bytes: Uint8Array): Promise<void> {
    if (this.parts.length > 0 && this.size + bytes.length > this.shardBytes) await this.flush();
    this.parts.push({ name, entry, bytes });
    this.size += bytes.length + 4;
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const shard = this.shards.length;
    const file = `shard-${String(shard + 1).padStart(5, '0')}.safetensors`;

    // Tensors start at multiples of 4 bytes (GPU uploads need it); a gap is described as a U8 padding tensor, so the file stays valid safetensors.
    const header: Record<string, unknown> = { __metadata__: { format: PACKAGE_FORMAT } };
    const layout: { name: string; begin: number; bytes: Uint8Array }[] = [];
    let end = 0;
    for (const part of this.parts) {
      const dims = part.entry.dtype === 'ternary2' ? [part.bytes.length / 4] : part.entry.shape;
      header[part.name] = { dtype: SAFETENSORS_DTYPE[part.entry.dtype], shape: dims, data_offsets: [end, end + part.bytes.length] };
      layout.push({ name: part.name, begin: end, bytes: part.bytes });
      end += part.bytes.length;
      const gap = (4 - (end % 4)) % 4;
      if (gap) {
        header[`__padding_${layout.length}`] = { dtype: 'U8', shape: [gap], data_offsets: [end, end + gap] };
        end += gap;
      }
    }
    let headerText = JSON.stringify(header);
    headerText += ' '.repeat((8 - ((8 + headerText.length) % 8)) % 8);
    const headerBytes = new TextEncoder().encode(headerText);
    const dataStart = 8 + headerBytes.length;

    const out = new Uint8Array(dataStart + end);
    new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
    out.set(headerBytes, 8);
    for (const { begin, bytes } of layout) out.set(bytes, dataStart + begin);
    for (const part of this.parts) {
      const placed = layout.find((l) => l.name === part.name)!;
      this.tensors[part.name] = { ...part.entry, shard, offset: dataStart + placed.begin, bytes: part.bytes.length };
    }
    this.parts = [];
    this.size = 0;

    const sha256 = await sha256Hex(out);
    await this.sink.writeFile(file, out);
    this.shards.push({ file, bytes: out.length, sha256 });
  }
}

/**
 * Converts `checkpoint` with its `config.json` contents (`configJson`, or null for the spec defaults)
 * into a package written through `sink`. On any failure the sink is aborted and the error rethrown.
 */
export async function convertCheckpoint(checkpoint: Checkpoint, configJson: unknown, sink: PackageSink, options: ConvertOptions): Promise<PackageManifest> {
  try {
    const layout = resolveLayout(checkpoint.tensors.values(), configJson);
    if (layout.unexpected.length) {
      options.onWarning?.(`${checkpoint.name}: ${layout.unexpected.length} tensor(s) not used by the model and left out: ${layout.unexpected.join(', ')}.`);
    }

    const tensors: Record<string, TensorEntry> = {};
    const shards = new ShardWriter(sink, options.shardBytes ?? DEFAULT_SHARD_BYTES, tensors);
    const bytesTotal = layout.tensors.reduce((sum, t) => sum + numelOf(t.source.shape) * DTYPE_BYTES[t.source.dtype], 0);
    let bytesRead = 0;
    for (const [index, planned] of layout.tensors.entries()) {
      const { bytes, entry } = await encodeTensor(planned);
      await shards.add(planned.name, entry, bytes);
      bytesRead += numelOf(planned.source.shape) * DTYPE_BYTES[planned.source.dtype];
      options.onProgress?.({ tensor: planned.name, done: index + 1, total: layout.tensors.length, bytesRead, bytesTotal });
    }
    await shards.flush();

    await sink.writeFile(TOKENIZER_FILE, options.tokenizer);
    const manifest: PackageManifest = {
      format: PACKAGE_FORMAT,
      formatVersion: PACKAGE_FORMAT_VERSION,
      name: options.name,
      ...(options.randomWeights ? { randomWeights: true } : {}),
      model: layout.config,
      chatTemplate: options.chatTemplate ?? DEFAULT_CHAT_TEMPLATE,
      tokenizer: { file: TOKENIZER_FILE, bytes: options.tokenizer.length, sha256: await sha256Hex(options.tokenizer) },
      shards: shards.shards,
      tensors,
    };
    await sink.writeFile(MANIFEST_FILE, new TextEncoder().encode(JSON.stringify(manifest, null, 1) + '\n'));
    await sink.commit();
    return manifest;
  } catch (error) {
    await sink.abort();
    throw error;
  }
}
