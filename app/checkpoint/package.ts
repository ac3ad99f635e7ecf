/**
 * Reads a converted package through a file opener: the `TensorSource` the model loader uses. Each
 * shard is read whole when one of its tensors is first asked for, its SHA-256 checked against the
 * manifest, and kept until a tensor of another shard is asked for.
 */
import { InputNotFoundError, type ByteSource } from './bytes.ts';
import { MANIFEST_FILE, sha256Hex } from './convert.ts';
import { CheckpointFormatError, IntegrityError } from './errors.ts';
import { PACKAGE_FORMAT, PACKAGE_FORMAT_VERSION, type PackageManifest, type TensorSource } from './manifest.ts';

/** Opens a file of the package by name. */
export type PackageFileOpener = (file: string) => Promise<ByteSource>;

/** Tells whether `error` means the file does not exist: `InputNotFoundError`, or a raw ENOENT from an opener. */
function isNotFound(error: unknown): error is Error {
  return error instanceof InputNotFoundError || (error as { code?: string } | null)?.code === 'ENOENT';
}

function notFoundReason(error: Error): string {
  return error instanceof InputNotFoundError ? error.reason : 'ENOENT';
}

async function readWhole(open: PackageFileOpener, file: string, expected: { bytes: number; sha256: string }, where: string): Promise<Uint8Array> {
  const source = await open(file).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
    throw new IntegrityError(
      `The package at ${where} is incomplete: ${file} is missing (${notFoundReason(error)}). Convert or download the package again.`,
      { cause: error },
    );
  });
  try {
    if (source.size !== expected.bytes) {
      throw new IntegrityError(`${source.name} has ${source.size} bytes but the manifest records ${expected.bytes}; the package is damaged or incomplete. Convert or download it again.`);
    }
    const bytes = await source.read(0, source.size);
    const sha256 = await sha256Hex(bytes);
    if (sha256 !== expected.sha256) {
      throw new IntegrityError(`${source.name} has SHA-256 ${sha256} but the manifest of ${where} records ${expected.sha256}; the package is damaged. Convert or download it again.`);
    }
    return bytes;
  } finally {
    await source.close();
  }
}

export function parseManifest(text: string, where: string): PackageManifest {
  if (/^\s*</.test(text)) {
    throw new CheckpointFormatError(`Nothing was found at ${where}/${MANIFEST_FILE}: it is a web page, not JSON. Check the path or URL of the package.`);
  }
  let manifest: PackageManifest;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new CheckpointFormatError(`${where}/${MANIFEST_FILE} is not valid JSON (${(error as Error).message}).`);
  }
  if (manifest?.format !== PACKAGE_FORMAT) throw new CheckpointFormatError(`${where} is not a Trit package (manifest format is ${JSON.stringify(manifest?.format)}); create one with \`trit convert\`.`);
  if (manifest.formatVersion !== PACKAGE_FORMAT_VERSION) {
    throw new CheckpointFormatError(`${where} is package format version ${manifest.formatVersion}; this Trit reads version ${PACKAGE_FORMAT_VERSION}. Convert the checkpoint again.`);
  }
  return manifest;
}

export async function openPackageWith(open: PackageFileOpener, where: string): Promise<TensorSource> {
  let manifestSource: ByteSource;
  try {
    manifestSource = await open(MANIFEST_FILE);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new InputNotFoundError(
      `No Trit package was found at ${where} (${MANIFEST_FILE}: ${notFoundReason(error)}). Pass the folder or URL that \`trit convert\` wrote.`,
      notFoundReason(error),
      { cause: error },
    );
  }
  let manifestText: string;
  try {
    manifestText = new TextDecoder().decode(await manifestSource.read(0, manifestSource.size));
  } finally {
    await manifestSource.close();
  }
  const manifest = parseManifest(manifestText, where);

  let cached: { shard: number; bytes: Uint8Array } | null = null;
  return {
    manifest,
    async readTensor(name: string): Promise<Uint8Array> {
      const entry = manifest.tensors[name];
      if (!entry) throw new CheckpointFormatError(`The package at ${where} has no tensor "${name}"; convert the checkpoint again.`);
      const shard = manifest.shards[entry.shard];
      if (!shard) throw new CheckpointFormatError(`The manifest of ${where} puts "${name}" in shard ${entry.shard}, which it does not list. The manifest is damaged, so convert or download the package again.`);
      if (cached?.shard !== entry.shard) {
        cached = null;
        cached = { shard: entry.shard, bytes: await readWhole(open, shard.file, shard, where) };
      }
      if (entry.offset + entry.bytes > cached.bytes.length) throw new CheckpointFormatError(`The manifest of ${where} places "${name}" past the end of ${shard.file}. The package is damaged, so convert or download it again.`);
      return cached.bytes.slice(entry.offset, entry.offset + entry.bytes);
    },
    async readTokenizer(): Promise<string> {
      return new TextDecoder().decode(await readWhole(open, manifest.tokenizer.file, manifest.tokenizer, where));
    },
  };
}
