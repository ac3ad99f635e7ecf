/**
 * Writes a state dict of bf16 tensors as a PyTorch zip checkpoint, the format `torch.save` writes
 * (a stored zip with `data.pkl`, one `data/<key>` entry per storage, `version` and `byteorder`).
 * Tensors are produced and written one at a time, so at most one tensor is in memory.
 */
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

export interface TensorSpec {
  /** Name in the state dict, prefix included. */
  name: string;
  shape: number[];
  /** Fills `out` (row-major, `numel` elements) with bfloat16 bits. */
  fill(out: Uint16Array): void;
}

/** torch.save aligns each storage's data to 64 bytes, padding the local header's extra field. */
const DATA_ALIGNMENT = 64;
const DOS_DATE_1980_01_01 = 0x21;

class PickleBuilder {
  private bytes: number[] = [];

  op(...codes: number[]): this {
    this.bytes.push(...codes);
    return this;
  }

  text(value: string): this {
    const encoded = new TextEncoder().encode(value);
    const length = [encoded.length & 0xff, (encoded.length >> 8) & 0xff, (encoded.length >> 16) & 0xff, encoded.length >>> 24];
    return this.op(0x58 /* BINUNICODE */, ...length, ...encoded);
  }

  global(module: string, name: string): this {
    return this.op(0x63 /* GLOBAL */, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }

  int(value: number): this {
    if (value >= 0 && value < 256) return this.op(0x4b /* BININT1 */, value);
    if (value >= 0 && value < 2 ** 31) return this.op(0x4a /* BININT */, value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, value >>> 24);
    // LONG1 with 8 little-endian bytes (two's complement; sizes here are non-negative).
    const big = BigInt(value);
    return this.op(0x8a, 8, ...Array.from({ length: 8 }, (_, i) => Number((big >> BigInt(8 * i)) & 0xffn)));
  }

  tuple(values: number[]): this {
    this.op(0x28 /* MARK */);
    for (const v of values) this.int(v);
    return this.op(0x74 /* TUPLE */);
  }

  build(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** Builds the pickle `torch.save` writes for an OrderedDict of tensors, each with its own storage `data/<index>`. */
export function statePickle(tensors: { name: string; shape: number[] }[]): Uint8Array {
  const p = new PickleBuilder().op(0x80, 2).global('collections', 'OrderedDict').op(0x29 /* EMPTY_TUPLE */, 0x52 /* REDUCE */);
  p.op(0x28 /* MARK */);
  tensors.forEach(({ name, shape }, index) => {
    const numel = shape.reduce((a, b) => a * b, 1);
    const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    p.text(name).global('torch._utils', '_rebuild_tensor_v2');
    p.op(0x28 /* MARK */);
    p.op(0x28).text('storage').global('torch', 'BFloat16Storage').text(String(index)).text('cpu').int(numel).op(0x74, 0x51 /* TUPLE, BINPERSID */);
    p.int(0).tuple(shape).tuple(stride);
    p.op(0x89 /* NEWFALSE: requires_grad */);
    p.global('collections', 'OrderedDict').op(0x29, 0x52); // backward hooks
    p.op(0x74 /* TUPLE */, 0x52 /* REDUCE */);
  });
  p.op(0x75 /* SETITEMS */, 0x2e /* STOP */);
  return p.build();
}

interface CentralRecord {
  name: Uint8Array;
  crc: number;
  size: number;
  offset: number;
}

/** Sequential writer of a stored zip archive with zip64 records where sizes or offsets need them. */
class ZipStreamWriter {
  private records: CentralRecord[] = [];
  private position = 0;

  constructor(
    private readonly write: (bytes: Uint8Array) => Promise<void>,
    /** Writes zip64 records even where 32-bit fields suffice (for testing readers on small files). */
    private readonly forceZip64 = false,
  ) {}

  private async emit(bytes: Uint8Array): Promise<void> {
    await this.write(bytes);
    this.position += bytes.length;
  }

  async add(name: string, data: Uint8Array): Promise<void> {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data);
    const big = data.length >= 0xffffffff;
    const zip64Extra = big ? 20 : 0;
    const unpadded = this.position + 30 + nameBytes.length + zip64Extra;
    const padding = (DATA_ALIGNMENT - ((unpadded + 4) % DATA_ALIGNMENT)) % DATA_ALIGNMENT;
    const extraLength = zip64Extra + 4 + padding;

    const header = new Uint8Array(30 + nameBytes.length + extraLength);
    const view = new DataView(header.buffer);
    view.setUint32(0, 0x04034b50, true);
    view.setUint16(4, big ? 45 : 20, true);
    view.setUint16(12, DOS_DATE_1980_01_01, true);
    view.setUint32(14, crc, true);
    view.setUint32(18, big ? 0xffffffff : data.length, true);
    view.setUint32(22, big ? 0xffffffff : data.length, true);
    view.setUint16(26, nameBytes.length, true);
    view.setUint16(28, extraLength, true);
    header.set(nameBytes, 30);
    let at = 30 + nameBytes.length;
    if (big) {
      view.setUint16(at, 0x0001, true);
      view.setUint16(at + 2, 16, true);
      view.setBigUint64(at + 4, BigInt(data.length), true);
      view.setBigUint64(at + 12, BigInt(data.length), true);
      at += 20;
    }
    // Padding field ("FB", as torch.save writes it) so the data starts on a 64-byte boundary.
    view.setUint16(at, 0x4246, true);
    view.setUint16(at + 2, padding, true);

    this.records.push({ name: nameBytes, crc, size: data.length, offset: this.position });
    await this.emit(header);
    await this.emit(data);
  }

  async finish(): Promise<void> {
    const start = this.position;
    for (const record of this.records) {
      const big = this.forceZip64 || record.size >= 0xffffffff || record.offset >= 0xffffffff;
      const extraLength = big ? 28 : 0;
      const entry = new Uint8Array(46 + record.name.length + extraLength);
      const view = new DataView(entry.buffer);
      view.setUint32(0, 0x02014b50, true);
      view.setUint16(4, 45, true);
      view.setUint16(6, big ? 45 : 20, true);
      view.setUint16(14, DOS_DATE_1980_01_01, true);
      view.setUint32(16, record.crc, true);
      view.setUint32(20, big ? 0xffffffff : record.size, true);
      view.setUint32(24, big ? 0xffffffff : record.size, true);
      view.setUint16(28, record.name.length, true);
      view.setUint16(30, extraLength, true);
      view.setUint32(42, big ? 0xffffffff : record.offset, true);
      entry.set(record.name, 46);
      if (big) {
        const at = 46 + record.name.length;
        view.setUint16(at, 0x0001, true);
        view.setUint16(at + 2, 24, true);
        view.setBigUint64(at + 4, BigInt(record.size), true);
        view.setBigUint64(at + 12, BigInt(record.size), true);
        view.setBigUint64(at + 20, BigInt(record.offset), true);
      }
      await this.emit(entry);
    }
    const size = this.position - start;
    const count = this.records.length;
    const zip64 = this.forceZip64 || start >= 0xffffffff || count >= 0xffff;

    const tail = new Uint8Array((zip64 ? 56 + 20 : 0) + 22);
    const view = new DataView(tail.buffer);
    let at = 0;
    if (zip64) {
      view.setUint32(0, 0x06064b50, true);
      view.setBigUint64(4, 44n, true);
      view.setUint16(12, 45, true);
      view.setUint16(14, 45, true);
      view.setBigUint64(24, BigInt(count), true);
      view.setBigUint64(32, BigInt(count), true);
      view.setBigUint64(40, BigInt(size), true);
      view.setBigUint64(48, BigInt(start), true);
      view.setUint32(56, 0x07064b50, true);
      view.setBigUint64(64, BigInt(start + size), true);
      view.setUint32(72, 1, true);
      at = 76;
    }
    view.setUint32(at, 0x06054b50, true);
    view.setUint16(at + 8, zip64 ? 0xffff : count, true);
    view.setUint16(at + 10, zip64 ? 0xffff : count, true);
    view.setUint32(at + 12, zip64 ? 0xffffffff : size, true);
    view.setUint32(at + 16, zip64 ? 0xffffffff : start, true);
    await this.emit(tail);
  }
}

export interface WriteOptions {
  /** Folder name inside the archive; torch.save uses the file name without its extension. */
  root?: string;
  /** Writes zip64 records even where 32-bit fields suffice, as archives over 4 GiB need them. */
  forceZip64?: boolean;
  /** Called after each tensor is written. */
  onTensor?: (name: string, index: number) => void;
}

/** Writes `tensors` as a bf16 PyTorch checkpoint at `path`. */
export async function writeTorchCheckpoint(path: string, tensors: TensorSpec[], options: WriteOptions = {}): Promise<void> {
  const root = options.root ?? ((path.split(/[\\/]/).pop() ?? '').replace(/\.[^.]*$/, '') || 'archive');
  const handle = await open(path, 'w');
  try {
    const zip = new ZipStreamWriter(async (bytes) => {
      let done = 0;
      while (done < bytes.length) done += (await handle.write(bytes, done, bytes.length - done)).bytesWritten;
    }, options.forceZip64);
    await zip.add(`${root}/data.pkl`, statePickle(tensors));
    await zip.add(`${root}/byteorder`, new TextEncoder().encode('little'));
    for (const [index, tensor] of tensors.entries()) {
      const values = new Uint16Array(tensor.shape.reduce((a, b) => a * b, 1));
      tensor.fill(values);
      await zip.add(`${root}/data/${index}`, new Uint8Array(values.buffer));
      options.onTensor?.(tensor.name, index);
    }
    await zip.add(`${root}/version`, new TextEncoder().encode('3\n'));
    await zip.finish();
  } finally {
    await handle.close();
  }
}
