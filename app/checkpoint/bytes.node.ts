/** Node file byte source: reads ranges through a file handle and never loads the whole file. */
import { open, type FileHandle } from 'node:fs/promises';
import { InputNotFoundError, checkRange, type ByteSource } from './bytes.ts';

export class FileByteSource implements ByteSource {
  private constructor(
    private readonly handle: FileHandle,
    readonly name: string,
    readonly size: number,
  ) {}

  /** Opens `path`; a path that does not exist, or runs through a file (ENOTDIR), raises `InputNotFoundError`. */
  static async open(path: string): Promise<FileByteSource> {
    const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw new InputNotFoundError(`${path} not found.`, error.code, { cause: error });
      throw error;
    });
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new Error(`${path} is not a regular file.`);
      return new FileByteSource(handle, path, stat.size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    const bytes = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(bytes, done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`${this.name}: the file shrank while being read. Wait until nothing else writes to it, then retry.`);
      done += bytesRead;
    }
    return bytes;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
