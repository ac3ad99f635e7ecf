/**
 * Converts a checkpoint plus `config.json` into a package (`manifest.json`, safetensors shards of
 * about `shardBytes` each, `tokenizer.json`). The same code runs under Node (`trit convert`, writing
 * files) and in the worker (writing to IndexedDB), and each of them provides a `PackageSink`.
 *
 * Memory stays bounded: tensors are read one at a time and encoded straight into the shard being
 * assembled, and each shard is written before the next begins. A tensor larger than `shardBytes`
 * (the embedding) gets a shard of its own.
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

/** Destination of a package's files. Each file is written once, and nothing is visible until `commit`. */
export interface PackageSink {
  /** Writes file `name` (relative to the package root, no folders) with `bytes`. */
  writeFile(name: string, bytes: Uint8Array): Promise<void>;
  /** Makes the package visible as a whole. The converter calls it once, after writing `manifest.json`. */
  commit(): Promise<void>;
  /** Removes everything written so far. The converter calls it when conversion fails. */
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
  /**
   * Marks a package with random weights, whose generated text is noise. A config with
   * `RANDOM_WEIGHTS_CONFIG_KEY` set marks it too.
   */
  randomWeights?: boolean;
  /** Target shard size in bytes; default 32 MiB. */
  shardBytes?: number;
  chatTemplate?: ChatTemplate;
  onProgress?: (progress: ConvertProgress) => void;
  /** Receives each warning (unexpected tensors) once. */
  onWarning?: (message: string) => void;
  /** Receives notes on checkpoint tensors left out on purpose (the tied head, unused vision layers). */
  onNote?: (message: string) => void;
}

export const DEFAULT_SHARD_BYTES = 32 * 1024 * 1024;

/**
 * Key of `config.json` that `trit make-checkpoint` sets to true. A checkpoint whose config has it is
 * converted into a package marked `randomWeights`, as `--random-weights` would.
 */
export const RANDOM_WEIGHTS_CONFIG_KEY = 'trit_random_weights';

/** Tells whether a checkpoint's `config.json` contents mark its weights as random. */
export function configMarksRandomWeights(configJson: unknown): boolean {
  return typeof configJson === 'object' && configJson !== null && (configJson as Record<string, unknown>)[RANDOM_WEIGHTS_CONFIG_KEY] === true;
}
export const MANIFEST_FILE = 'manifest.json';
export const TOKENIZER_FILE = 'tokenizer.json';

/** Elements converted per step when narrowing to f16, so no f32 copy of a whole tensor is made. */
const F16_CHUNK = 1 << 20;

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Returns the bytes a tensor takes in the package. */
function storedBytes(planned: PlannedTensor): number {
  const count = numelOf(planned.source.shape);
  if (planned.storage === 'ternary') return count / 4;
  return planned.storage === 'f32' ? count * 4 : count * 2;
}

/** Groups tensors into shards in order: a shard takes tensors until the next would pass `shardBytes`, and a larger tensor gets a shard of its own. */
function planShards(tensors: PlannedTensor[], shardBytes: number): PlannedTensor[][] {
  const shards: PlannedTensor[][] = [];
  let current: PlannedTensor[] = [];
  let size = 0;
  for (const tensor of tensors) {
    const bytes = storedBytes(tensor);
    if (current.length > 0 && size + bytes > shardBytes) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(tensor);
    size += bytes + 4;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

type EncodedEntry = Omit<TensorEntry, 'shard' | 'offset' | 'bytes'>;

/** Encodes one tensor into `target`, which is `storedBytes` long and 4-byte aligned, and returns its manifest fields. */
async function encodeInto(planned: PlannedTensor, target: Uint8Array): Promise<EncodedEntry> {
  const { source, storage } = planned;
  const shape = [...source.shape];
  if (!isFloatDtype(source.dtype)) {
    throw new UnsupportedCheckpointError(`Tensor "${source.name}" has dtype ${source.dtype}; the model's weights must be bf16, f16, f32 or f64.`);
  }
  if (storage === 'ternary') {
    const [rows, cols] = shape;
    const { codes, sw } = ternarize(await readFloats(source));
    const words = packTernary(codes, rows, cols);
    target.set(new Uint8Array(words.buffer));
    return { dtype: 'ternary2', shape, packing: TERNARY_PACKING, scale: sw };
  }
  if (storage === 'f32') {
    const floats = await readFloats(source);
    new Float32Array(target.buffer, target.byteOffset, floats.length).set(floats);
    return { dtype: 'f32', shape };
  }

  // f16, read and converted in chunks straight into the shard, so no whole-tensor copy is made.
  const count = numelOf(shape);
  const half = new Uint16Array(target.buffer, target.byteOffset, count);
  const whole = source.readElements ? null : await source.readBytes();
  const item = DTYPE_BYTES[source.dtype];
  for (let start = 0; start < count; start += F16_CHUNK) {
    const end = Math.min(count, start + F16_CHUNK);
    const raw = whole ? whole.subarray(start * item, end * item) : await source.readElements!(start, end - start);
    if (source.dtype === 'f16') {
      target.set(raw, start * 2);
      continue;
    }
    const floats = decodeFloats(source.dtype, raw);
    for (let i = 0; i < floats.length; i++) half[start + i] = numberToF16Bits(floats[i]);
  }
  return { dtype: 'f16', shape };
}

const SAFETENSORS_DTYPE = { f16: 'F16', f32: 'F32', ternary2: 'U32' } as const;

/**
 * Writes one safetensors shard holding `group`, encoding each tensor straight into the shard's
 * buffer, and records the tensors' placement in `tensors`. Returns the shard's manifest entry.
 */
async function writeShard(
  index: number,
  group: PlannedTensor[],
  sink: PackageSink,
  tensors: Record<string, TensorEntry>,
  onTensor: (planned: PlannedTensor) => void,
): Promise<ShardEntry> {
  const file = `shard-${String(index + 1).padStart(5, '0')}.safetensors`;

  // Every tensor starts at a multiple of 4 bytes because GPU uploads need it. A gap is described
  // as a U8 padding tensor, so the file stays valid safetensors.
  const header: Record<string, unknown> = { __metadata__: { format: PACKAGE_FORMAT } };
  const placement: { planned: PlannedTensor; begin: number; bytes: number }[] = [];
  let end = 0;
  for (const planned of group) {
    const bytes = storedBytes(planned);
    const dims = planned.storage === 'ternary' ? [bytes / 4] : [...planned.source.shape];
    header[planned.name] = { dtype: SAFETENSORS_DTYPE[planned.storage === 'ternary' ? 'ternary2' : planned.storage], shape: dims, data_offsets: [end, end + bytes] };
    placement.push({ planned, begin: end, bytes });
    end += bytes;
    const gap = (4 - (end % 4)) % 4;
    if (gap) {
      header[`__padding_${placement.length}`] = { dtype: 'U8', shape: [gap], data_offsets: [end, end + gap] };
      end += gap;
    }
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(json.length + ((8 - ((8 + json.length) % 8)) % 8)).fill(0x20); // space-padded, as safetensors allows
  headerBytes.set(json);
  const dataStart = 8 + headerBytes.length;

  const out = new Uint8Array(dataStart + end);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  for (const { planned, begin, bytes } of placement) {
    const entry = await encodeInto(planned, out.subarray(dataStart + begin, dataStart + begin + bytes));
    tensors[planned.name] = { ...entry, shard: index, offset: dataStart + begin, bytes };
    onTensor(planned);
  }

  const sha256 = await sha256Hex(out);
  await sink.writeFile(file, out);
  return { file, bytes: out.length, sha256 };
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
    for (const skipped of layout.skipped) options.onNote?.(`left out ${skipped}`);

    const tensors: Record<string, TensorEntry> = {};
    const shards: ShardEntry[] = [];
    const bytesTotal = layout.tensors.reduce((sum, t) => sum + numelOf(t.source.shape) * DTYPE_BYTES[t.source.dtype], 0);
    let bytesRead = 0;
    let done = 0;
    const onTensor = (planned: PlannedTensor) => {
      bytesRead += numelOf(planned.source.shape) * DTYPE_BYTES[planned.source.dtype];
      done++;
      options.onProgress?.({ tensor: planned.name, done, total: layout.tensors.length, bytesRead, bytesTotal });
    };
    for (const [index, group] of planShards(layout.tensors, options.shardBytes ?? DEFAULT_SHARD_BYTES).entries()) {
      shards.push(await writeShard(index, group, sink, tensors, onTensor));
    }

    await sink.writeFile(TOKENIZER_FILE, options.tokenizer);
    const manifest: PackageManifest = {
      format: PACKAGE_FORMAT,
      formatVersion: PACKAGE_FORMAT_VERSION,
      name: options.name,
      ...(options.randomWeights || configMarksRandomWeights(configJson) ? { randomWeights: true } : {}),
      model: layout.config,
      chatTemplate: options.chatTemplate ?? DEFAULT_CHAT_TEMPLATE,
      tokenizer: { file: TOKENIZER_FILE, bytes: options.tokenizer.length, sha256: await sha256Hex(options.tokenizer) },
      shards,
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
