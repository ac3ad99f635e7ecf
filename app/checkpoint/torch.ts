/** Reader of PyTorch zip checkpoints (`torch.save` of a state dict since PyTorch 1.6). */
import type { ByteSource } from './bytes.ts';
import { numelOf, type Checkpoint, type CheckpointTensor } from './checkpoint.ts';
import { DTYPE_BYTES, type SourceDtype } from './dtypes.ts';
import { CheckpointFormatError, UnsupportedCheckpointError } from './errors.ts';
import { unpickle, type PickleValue, type TensorRef } from './pickle.ts';
import { ZipArchive, type ZipEntry } from './zip.ts';

class TorchTensor implements CheckpointTensor {
  readonly dtype: SourceDtype;
  readonly shape: readonly number[];

  constructor(
    readonly name: string,
    private readonly ref: TensorRef,
    private readonly archive: ZipArchive,
    private readonly entry: ZipEntry,
  ) {
    this.dtype = ref.storage.dtype;
    this.shape = ref.shape;
  }

  private isContiguous(): boolean {
    let expected = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      if (this.shape[d] !== 1 && this.ref.stride[d] !== expected) return false;
      expected *= this.shape[d];
    }
    return true;
  }

  async readElements(start: number, count: number): Promise<Uint8Array> {
    const item = DTYPE_BYTES[this.dtype];
    if (this.isContiguous()) return this.archive.read(this.entry, (this.ref.storageOffset + start) * item, count * item);
    return (await this.readBytes()).subarray(start * item, (start + count) * item);
  }

  async readBytes(): Promise<Uint8Array> {
    const item = DTYPE_BYTES[this.dtype];
    const numel = numelOf(this.shape);
    if (numel === 0) return new Uint8Array(0);
    if (this.isContiguous()) return this.archive.read(this.entry, this.ref.storageOffset * item, numel * item);

    // A strided view: read the span of storage it touches, then gather elements in row-major order.
    const span = this.shape.reduce((sum, size, d) => sum + (size - 1) * this.ref.stride[d], 0) + 1;
    const source = await this.archive.read(this.entry, this.ref.storageOffset * item, span * item);
    const out = new Uint8Array(numel * item);
    const index = new Array<number>(this.shape.length).fill(0);
    for (let i = 0; i < numel; i++) {
      let at = 0;
      for (let d = 0; d < index.length; d++) at += index[d] * this.ref.stride[d];
      out.set(source.subarray(at * item, (at + 1) * item), i * item);
      for (let d = index.length - 1; d >= 0; d--) {
        if (++index[d] < this.shape[d]) break;
        index[d] = 0;
      }
    }
    return out;
  }
}

/** Collects tensors from nested dicts, joining keys with dots ({"model": {"a": t}} gives "model.a"); other values are skipped. */
function collectTensors(value: PickleValue, prefix: string, out: Map<string, TensorRef>): void {
  if (value instanceof Map) {
    for (const [key, child] of value) if (typeof key === 'string') collectTensors(child, prefix ? `${prefix}.${key}` : key, out);
  } else if (typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'tensor') {
    out.set(prefix, value);
  }
}

export async function openTorchCheckpoint(source: ByteSource): Promise<Checkpoint> {
  const archive = await ZipArchive.open(source);
  const pickles = [...archive.entries.keys()].filter((name) => name === 'data.pkl' || name.endsWith('/data.pkl'));
  if (pickles.length !== 1) {
    throw new CheckpointFormatError(
      `${source.name} is a zip archive but not a PyTorch checkpoint (${pickles.length ? 'several' : 'no'} data.pkl entries).`,
    );
  }
  const root = pickles[0].slice(0, -'data.pkl'.length);

  const byteOrder = archive.entries.get(`${root}byteorder`);
  if (byteOrder) {
    const order = new TextDecoder().decode(await archive.read(byteOrder)).trim();
    if (order !== 'little') throw new UnsupportedCheckpointError(`${source.name} stores tensors ${order}-endian; only little-endian checkpoints are supported, so re-save it on a little-endian machine or as safetensors.`);
  }

  const pickleEntry = archive.entries.get(pickles[0])!;
  const value = unpickle(await archive.read(pickleEntry), source.name);
  const refs = new Map<string, TensorRef>();
  collectTensors(value, '', refs);
  if (refs.size === 0) throw new CheckpointFormatError(`${source.name} is a PyTorch file but contains no tensors. Save the model's state dict with torch.save(model.state_dict(), path).`);

  const tensors = new Map<string, CheckpointTensor>();
  for (const [name, ref] of refs) {
    const entry = archive.entries.get(`${root}data/${ref.storage.key}`);
    if (!entry) throw new CheckpointFormatError(`${source.name}: storage "${ref.storage.key}" of tensor "${name}" is missing from the archive, so the file is damaged. Copy or download it again.`);
    const item = DTYPE_BYTES[ref.storage.dtype];
    if (entry.size < ref.storage.numel * item) {
      throw new CheckpointFormatError(`${source.name}: storage "${ref.storage.key}" has ${entry.size} bytes, fewer than its ${ref.storage.numel} ${ref.storage.dtype} elements, so the file is damaged. Copy or download it again.`);
    }
    if (ref.shape.length !== ref.stride.length) throw new CheckpointFormatError(`${source.name}: tensor "${name}" has ${ref.shape.length} sizes but ${ref.stride.length} strides, so the file is damaged. Copy or download it again.`);
    if (numelOf(ref.shape) > 0) {
      const last = ref.storageOffset + ref.shape.reduce((sum, size, d) => sum + (size - 1) * ref.stride[d], 0);
      if (last >= ref.storage.numel) {
        throw new CheckpointFormatError(`${source.name}: tensor "${name}" reaches element ${last} of a storage with ${ref.storage.numel} elements, so the file is damaged. Copy or download it again.`);
      }
    }
    tensors.set(name, new TorchTensor(name, ref, archive, entry));
  }
  return { name: source.name, tensors, close: () => source.close() };
}
