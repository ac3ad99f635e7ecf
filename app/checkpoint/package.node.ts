/** Opens a package under Node from a folder or an http(s) URL (read with Range requests). */
import { join } from 'node:path';
import { HttpByteSource } from './bytes.ts';
import { FileByteSource } from './bytes.node.ts';
import type { TensorSource } from './manifest.ts';
import { openPackageWith } from './package.ts';

export async function openPackage(dirOrUrl: string): Promise<TensorSource> {
  if (/^https?:\/\//.test(dirOrUrl)) {
    const base = dirOrUrl.endsWith('/') ? dirOrUrl : `${dirOrUrl}/`;
    return openPackageWith((file) => HttpByteSource.open(new URL(file, base).href), dirOrUrl);
  }
  return openPackageWith((file) => FileByteSource.open(join(dirOrUrl, file)), dirOrUrl);
}
