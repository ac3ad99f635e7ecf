/** Reader of safetensors files and of sharded sets described by `model.safetensors.index.json`. */
import type { ByteSource } from './bytes.ts';
import { numelOf, type Checkpoint, type CheckpointTensor } from './checkpoint.ts';
import { DTYPE_BYTES, type SourceDtype } from './dtypes.ts';
import { CheckpointFormatError, UnsupportedCheckpointError } from './errors.ts';

/** safetensors dtype names and ours. */
export const SAFETENSORS_DTYPES: Record<string, SourceDtype> = {
  F64: 'f64',
  F32: 'f32',
  F16: 'f16',
  BF16: 'bf16',
  I64: 'i64',
  I32: 'i32',
  I16: 'i16',
  I8: 'i8',
  U8: 'u8',
  U16: 'u16',
  U32: 'u32',
  BOOL: 'bool',
};

/** Largest header accepted; real headers are well under a megabyte. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export async function openSafetensors(source: ByteSource): Promise<Checkpoint> {
  const bad = (reason: string) => new CheckpointFormatError(`${source.name} is not a valid safetensors file: ${reason}. Download it again.`);
  if (source.size < 8) throw bad(`only ${source.size} bytes`);
  const lengthBytes = await source.read(0, 8);
  const headerLength = Number(new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > source.size - 8) throw bad(`the header length ${headerLength} is longer than the file (${source.size} bytes); the file is truncated or not safetensors`);
  if (headerLength > MAX_HEADER_BYTES) throw bad(`the header length ${headerLength} is implausibly large`);

  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(await source.read(8, headerLength)));
  } catch (error) {
    throw bad(`the header is not JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('the header is not a JSON object');

  const dataStart = 8 + headerLength;
  const tensors = new Map<string, CheckpointTensor>();
  const entries = Object.entries(header).filter(([name]) => name !== '__metadata__') as [string, HeaderEntry][];
  entries.sort((a, b) => a[1].data_offsets?.[0] - b[1].data_offsets?.[0]);
  for (const [name, entry] of entries) {
    if (typeof entry !== 'object' || !Array.isArray(entry.shape) || !Array.isArray(entry.data_offsets)) throw bad(`entry "${name}" lacks dtype, shape or data_offsets`);
    const dtype = SAFETENSORS_DTYPES[entry.dtype];
    if (!dtype) {
      throw new UnsupportedCheckpointError(
        `${source.name}: tensor "${name}" has dtype ${entry.dtype}, which Trit does not read (supported: ${Object.keys(SAFETENSORS_DTYPES).join(', ')}).`,
      );
    }
    const [begin, end] = entry.data_offsets;
    const shape = entry.shape;
    if (!shape.every((n) => Number.isSafeInteger(n) && n >= 0)) throw bad(`entry "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) throw bad(`entry "${name}" has invalid data_offsets`);
    if (end - begin !== numelOf(shape) * DTYPE_BYTES[dtype]) throw bad(`entry "${name}" has ${end - begin} bytes for shape ${JSON.stringify(shape)} of ${entry.dtype}`);
    if (dataStart + end > source.size) throw bad(`data of "${name}" runs past the end of the file; the file is truncated`);
    tensors.set(name, {
      name,
      dtype,
      shape,
      readBytes: () => source.read(dataStart + begin, end - begin),
      readElements: (start, count) => source.read(dataStart + begin + start * DTYPE_BYTES[dtype], count * DTYPE_BYTES[dtype]),
    });
  }
  return { name: source.name, tensors, close: () => source.close() };
}

/**
 * Opens a sharded set: the index's `weight_map` names the shard file of every tensor.
 * `openShard` reads one shard (safetensors, or torch zip files for a `pytorch_model.bin.index.json`).
 */
export async function openShardIndex(
  index: ByteSource,
  openSibling: (fileName: string) => Promise<ByteSource>,
  openShard: (source: ByteSource) => Promise<Checkpoint> = openSafetensors,
): Promise<Checkpoint> {
  let weightMap: Record<string, string>;
  try {
    weightMap = JSON.parse(new TextDecoder().decode(await index.read(0, index.size))).weight_map;
  } catch (error) {
    throw new CheckpointFormatError(`${index.name} is not valid JSON (${(error as Error).message}).`);
  }
  if (typeof weightMap !== 'object' || weightMap === null) throw new CheckpointFormatError(`${index.name} has no "weight_map" object; it is not a sharded checkpoint index.`);

  const shards: Checkpoint[] = [];
  const tensors = new Map<string, CheckpointTensor>();
  try {
    for (const file of [...new Set(Object.values(weightMap))].sort()) {
      const shardSource = await openSibling(file);
      let shard: Checkpoint;
      try {
        shard = await openShard(shardSource);
      } catch (error) {
        await shardSource.close();
        throw error;
      }
      shards.push(shard);
      for (const [name, tensor] of shard.tensors) if (weightMap[name] === file) tensors.set(name, tensor);
    }
  } catch (error) {
    await Promise.all(shards.map((s) => s.close()));
    throw error;
  }
  const missing = Object.keys(weightMap).filter((name) => !tensors.has(name));
  if (missing.length) {
    await Promise.all(shards.map((s) => s.close()));
    throw new CheckpointFormatError(`${index.name} lists tensors its shards do not contain: ${missing.join(', ')}.`);
  }
  return {
    name: index.name,
    tensors,
    close: async () => {
      await Promise.all(shards.map((s) => s.close()));
      await index.close();
    },
  };
}
