/**
 * Zip archive reader over a byte source: reads the central directory (zip64 included) and locates
 * each entry's data. Only stored (uncompressed) entries can be read, which is what `torch.save`
 * writes.
 */
import type { ByteSource } from './bytes.ts';
import { CheckpointFormatError, UnsupportedCheckpointError } from './errors.ts';

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const METHOD_STORED = 0;

export interface ZipEntry {
  name: string;
  /** Compression method (0 = stored, 8 = deflate). */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

function u64(view: DataView, at: number): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointFormatError(`Zip field ${value} is too large.`);
  return Number(value);
}

export class ZipArchive {
  private readonly dataOffsets = new Map<string, number>();

  private constructor(
    readonly source: ByteSource,
    readonly entries: Map<string, ZipEntry>,
  ) {}

  /** Reads the central directory; fails with `CheckpointFormatError` when `source` is not a zip archive. */
  static async open(source: ByteSource): Promise<ZipArchive> {
    const notZip = (reason: string) =>
      new CheckpointFormatError(`${source.name} is not a readable zip archive (${reason}). The file may be truncated or damaged: download it again.`);
    if (source.size < EOCD_SIZE) throw notZip(`only ${source.size} bytes`);

    // The end-of-central-directory record sits in the last 22 bytes plus an optional comment.
    const tailLength = Math.min(source.size, EOCD_SIZE + MAX_COMMENT);
    const tailStart = source.size - tailLength;
    const tail = await source.read(tailStart, tailLength);
    const tailView = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    let eocd = -1;
    for (let i = tailLength - EOCD_SIZE; i >= 0; i--) {
      if (tailView.getUint32(i, true) === EOCD_SIGNATURE) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw notZip('no end-of-central-directory record');

    let entryCount = tailView.getUint16(eocd + 10, true);
    let directorySize = tailView.getUint32(eocd + 12, true);
    let directoryOffset = tailView.getUint32(eocd + 16, true);

    const needsZip64 = entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff;
    const locatorAt = tailStart + eocd - 20;
    if (locatorAt >= 0) {
      const locator = await source.read(locatorAt, 20);
      const locatorView = new DataView(locator.buffer, locator.byteOffset, 20);
      if (locatorView.getUint32(0, true) === ZIP64_LOCATOR_SIGNATURE) {
        const recordAt = u64(locatorView, 8);
        if (recordAt + 56 > source.size) throw notZip('zip64 record past the end');
        const record = await source.read(recordAt, 56);
        const recordView = new DataView(record.buffer, record.byteOffset, 56);
        if (recordView.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) throw notZip('bad zip64 end-of-central-directory record');
        entryCount = u64(recordView, 32);
        directorySize = u64(recordView, 40);
        directoryOffset = u64(recordView, 48);
      } else if (needsZip64) {
        throw notZip('zip64 locator missing');
      }
    } else if (needsZip64) {
      throw notZip('zip64 locator missing');
    }
    if (directoryOffset + directorySize > source.size) throw notZip('central directory past the end of the file');

    const directory = await source.read(directoryOffset, directorySize);
    const view = new DataView(directory.buffer, directory.byteOffset, directory.byteLength);
    const decoder = new TextDecoder();
    const entries = new Map<string, ZipEntry>();
    let at = 0;
    for (let i = 0; i < entryCount; i++) {
      if (at + 46 > directorySize || view.getUint32(at, true) !== CENTRAL_HEADER_SIGNATURE) throw notZip(`bad central directory entry ${i}`);
      const method = view.getUint16(at + 10, true);
      const crc32 = view.getUint32(at + 16, true);
      let compressedSize = view.getUint32(at + 20, true);
      let size = view.getUint32(at + 24, true);
      const nameLength = view.getUint16(at + 28, true);
      const extraLength = view.getUint16(at + 30, true);
      const commentLength = view.getUint16(at + 32, true);
      let localHeaderOffset = view.getUint32(at + 42, true);
      const name = decoder.decode(directory.subarray(at + 46, at + 46 + nameLength));

      // Zip64 extended information: 64-bit values for exactly the fields saturated above, in this order.
      let extra = at + 46 + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = view.getUint16(extra, true);
        const length = view.getUint16(extra + 2, true);
        if (id === 0x0001) {
          let field = extra + 4;
          if (size === 0xffffffff) (size = u64(view, field)), (field += 8);
          if (compressedSize === 0xffffffff) (compressedSize = u64(view, field)), (field += 8);
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(view, field);
        }
        extra += 4 + length;
      }
      entries.set(name, { name, method, compressedSize, size, crc32, localHeaderOffset });
      at = extraEnd + commentLength;
    }
    return new ZipArchive(source, entries);
  }

  /** Byte offset of the entry's data in the archive (after its local header). */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const known = this.dataOffsets.get(entry.name);
    if (known !== undefined) return known;
    if (entry.method !== METHOD_STORED) {
      throw new UnsupportedCheckpointError(
        `${this.source.name}: zip entry "${entry.name}" is compressed (method ${entry.method}); only stored entries are supported, ` +
          'as torch.save writes them. Re-save the checkpoint with torch.save.',
      );
    }
    if (entry.localHeaderOffset + 30 > this.source.size) {
      throw new CheckpointFormatError(`${this.source.name}: local header of "${entry.name}" is past the end of the file; the file is truncated.`);
    }
    const header = await this.source.read(entry.localHeaderOffset, 30);
    const view = new DataView(header.buffer, header.byteOffset, 30);
    if (view.getUint32(0, true) !== LOCAL_HEADER_SIGNATURE) {
      throw new CheckpointFormatError(`${this.source.name}: bad local header for zip entry "${entry.name}"; the file is damaged.`);
    }
    const offset = entry.localHeaderOffset + 30 + view.getUint16(26, true) + view.getUint16(28, true);
    if (offset + entry.size > this.source.size) {
      throw new CheckpointFormatError(`${this.source.name}: data of zip entry "${entry.name}" runs past the end of the file; the file is truncated.`);
    }
    this.dataOffsets.set(entry.name, offset);
    return offset;
  }

  /** Reads `length` bytes at `offset` within the entry's data. */
  async read(entry: ZipEntry, offset = 0, length = entry.size - offset): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > entry.size) {
      throw new CheckpointFormatError(
        `${this.source.name}: read of bytes ${offset}–${offset + length} is outside zip entry "${entry.name}" (${entry.size} bytes).`,
      );
    }
    return this.source.read((await this.dataOffset(entry)) + offset, length);
  }
}
