/** Package sink writing a folder atomically: files go to a temporary sibling folder renamed into place at the end. */
import { chmod, mkdir, mkdtemp, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { PackageSink } from './convert.ts';

export class OutputExistsError extends Error {
  override name = 'OutputExistsError';
}

/** Fails when `dir` exists and is not empty, so a conversion never mixes with or replaces other files. */
export async function checkOutputFree(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (names.length > 0) throw new OutputExistsError(`${dir} already exists and is not empty; remove it or choose another output folder.`);
}

export class DirectorySink implements PackageSink {
  private constructor(
    private readonly target: string,
    private readonly temporary: string,
  ) {}

  static async create(dir: string): Promise<DirectorySink> {
    const target = resolve(dir);
    await checkOutputFree(target);
    await mkdir(dirname(target), { recursive: true });
    const temporary = await mkdtemp(join(dirname(target), `.${basename(target)}.partial-`));
    return new DirectorySink(target, temporary);
  }

  async writeFile(name: string, bytes: Uint8Array): Promise<void> {
    if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new Error(`Package file name "${name}" is not a plain file name.`);
    await writeFile(join(this.temporary, name), bytes);
  }

  async commit(): Promise<void> {
    await checkOutputFree(this.target);
    // mkdtemp creates the folder private (0700); a package folder is ordinary, readable data.
    await chmod(this.temporary, 0o755);
    await rmdir(this.target).catch(() => {});
    await rename(this.temporary, this.target);
  }

  async abort(): Promise<void> {
    await rm(this.temporary, { recursive: true, force: true });
  }
}
