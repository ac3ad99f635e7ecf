/** Opens a package under Node from a folder or an http(s) URL (read with Range requests). */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { HttpByteSource, InputNotFoundError } from './bytes.ts';
import { FileByteSource } from './bytes.node.ts';
import { MANIFEST_FILE } from './convert.ts';
import { CheckpointFormatError } from './errors.ts';
import type { TensorSource } from './manifest.ts';
import { openPackageWith } from './package.ts';

/** Names of checkpoint files, which `trit convert` reads and a package never contains. */
const CHECKPOINT_FILE = /\.(bin|pt|pth|safetensors|index\.json)$/;

/**
 * Rejects a path that cannot be a package folder with a message that names what it is: missing, a
 * checkpoint file or folder (which needs `trit convert` first), or another file.
 */
async function checkPackageFolder(path: string): Promise<void> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new InputNotFoundError(`${path} not found; pass the package folder that \`trit convert\` wrote.`, error.code, { cause: error });
    }
    throw error;
  });
  const convertFirst = (checkpoint: string) => `convert it first with \`trit convert ${checkpoint} <out-dir>\` and pass <out-dir>.`;
  if (info.isFile()) {
    if (basename(path) === MANIFEST_FILE) throw new CheckpointFormatError(`${path} is a package manifest; pass the folder that contains it, ${dirname(path)}.`);
    if (CHECKPOINT_FILE.test(path)) throw new CheckpointFormatError(`${path} is a checkpoint file, not a Trit package; ${convertFirst(path)}`);
    throw new CheckpointFormatError(`${path} is a file, not a Trit package folder; pass the folder that \`trit convert\` wrote.`);
  }
  if (!info.isDirectory()) return;
  const names = await readdir(path);
  if (!names.includes(MANIFEST_FILE) && names.some((name) => CHECKPOINT_FILE.test(name))) {
    throw new CheckpointFormatError(`${path} contains a checkpoint, not a Trit package (it has no ${MANIFEST_FILE}); ${convertFirst(path)}`);
  }
}

export async function openPackage(dirOrUrl: string): Promise<TensorSource> {
  // Messages join file names to `where` with one slash.
  const where = dirOrUrl.length > 1 ? dirOrUrl.replace(/\/+$/, '') : dirOrUrl;
  if (/^https?:\/\//.test(dirOrUrl)) {
    const base = `${where}/`;
    return openPackageWith((file) => HttpByteSource.open(new URL(file, base).href), where);
  }
  await checkPackageFolder(dirOrUrl);
  return openPackageWith((file) => FileByteSource.open(join(dirOrUrl, file)), where);
}
