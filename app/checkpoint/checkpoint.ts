/**
 * The reader-independent view of a checkpoint: named tensors whose bytes are read on demand, one
 * at a time. `openCheckpointSource` picks the reader by looking at the bytes.
 */
import type { ByteSource } from './bytes.ts';
import { decodeFloats, isFloatDtype, type SourceDtype } from './dtypes.ts';
import { CheckpointFormatError, UnsupportedCheckpointError } from './errors.ts';
import { openSafetensors, openShardIndex } from './safetensors.ts';
import { openTorchCheckpoint } from './torch.ts';

export interface CheckpointTensor {
  /** Name as stored in the checkpoint, prefix included. */
  readonly name: string;
  readonly dtype: SourceDtype;
  readonly shape: readonly number[];
  /** Reads the tensor as contiguous row-major little-endian bytes. */
  readBytes(): Promise<Uint8Array>;
  /** Reads `count` elements from row-major index `start`, so a large tensor can be converted in pieces. */
  readElements?(start: number, count: number): Promise<Uint8Array>;
}

export interface Checkpoint {
  /** Name shown in messages (the file it came from). */
  readonly name: string;
  /** Tensors in storage order. */
  readonly tensors: ReadonlyMap<string, CheckpointTensor>;
  /** Closes the files it opened. */
  close(): Promise<void>;
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Reads a float tensor as numbers: bf16, f16 and f32 exactly as Float32Array, f64 as Float64Array. */
export async function readFloats(tensor: CheckpointTensor): Promise<Float32Array | Float64Array> {
  if (!isFloatDtype(tensor.dtype)) {
    throw new UnsupportedCheckpointError(`Tensor "${tensor.name}" has dtype ${tensor.dtype}; a float type (bf16, f16, f32, f64) is needed.`);
  }
  return decodeFloats(tensor.dtype, await tensor.readBytes());
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/** Pickled magic number at the start of a torch file from before the zip format (PyTorch < 1.6 or `_use_new_zipfile_serialization=False`). */
const LEGACY_TORCH_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

/**
 * Opens a checkpoint of any supported kind: a torch zip file (`pytorch_model.bin`), a
 * `.safetensors` file, or a sharded set's index (`model.safetensors.index.json` or
 * `pytorch_model.bin.index.json`), whose shards `openSibling` opens by file name.
 */
export async function openCheckpointSource(
  source: ByteSource,
  openSibling: (fileName: string) => Promise<ByteSource>,
): Promise<Checkpoint> {
  if (source.size === 0) throw new CheckpointFormatError(`${source.name} is empty (0 bytes). Download the checkpoint again.`);
  const head = await source.read(0, Math.min(source.size, 16));
  if (startsWith(head, ZIP_MAGIC)) return openTorchCheckpoint(source);
  if (startsWith(head, LEGACY_TORCH_MAGIC)) {
    throw new UnsupportedCheckpointError(
      `${source.name} is a legacy (pre-zip) PyTorch file. Re-save it with a current PyTorch: ` +
        'torch.save(torch.load(path), new_path) writes the zip format.',
    );
  }
  if (source.name.endsWith('.json')) return openShardIndex(source, openSibling, (shard) => openCheckpointSource(shard, openSibling));
  if (source.size >= 8 && head.length >= 9 && head[8] === 0x7b /* '{' */) return openSafetensors(source);
  throw new CheckpointFormatError(
    `${source.name} is not a checkpoint Trit can read: expected a PyTorch zip file (pytorch_model.bin), a .safetensors file or a model.safetensors.index.json.`,
  );
}
