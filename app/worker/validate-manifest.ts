import { PACKAGE_FORMAT, PACKAGE_FORMAT_VERSION, type PackageManifest } from '../checkpoint/manifest.ts';
import { BadPackageError } from './errors.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;

function isByteCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Parses `manifest.json` and checks what the downloader and the readers rely on: the format and
 * version, every file's size and SHA-256, and that each tensor lies inside its shard. The model
 * config is checked by the model loader, not here.
 */
export function parseManifest(text: string, where: string): PackageManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadPackageError(`${where} is not valid JSON (${(error as Error).message}). Point the loader at a package folder that \`trit convert\` wrote.`);
  }
  const fail = (problem: string): never => {
    throw new BadPackageError(`${where} is not a valid Trit package manifest: ${problem}. Convert the checkpoint again with \`trit convert\`.`);
  };
  if (typeof value !== 'object' || value === null) return fail('it is not a JSON object');
  const manifest = value as PackageManifest;

  if (manifest.format !== PACKAGE_FORMAT) fail(`"format" is ${JSON.stringify(manifest.format)}, expected "${PACKAGE_FORMAT}"`);
  if (manifest.formatVersion !== PACKAGE_FORMAT_VERSION) {
    fail(`"formatVersion" is ${JSON.stringify(manifest.formatVersion)}, but this version of Trit reads only ${PACKAGE_FORMAT_VERSION}`);
  }
  if (typeof manifest.name !== 'string') fail('"name" is missing');
  if (!Array.isArray(manifest.shards) || manifest.shards.length === 0) fail('"shards" is missing or empty');
  if (typeof manifest.tensors !== 'object' || manifest.tensors === null) fail('"tensors" is missing');

  const files = [...manifest.shards.map((s, i) => ({ label: `shards[${i}]`, entry: s })), { label: 'tokenizer', entry: manifest.tokenizer }];
  const names = new Set<string>();
  for (const { label, entry } of files) {
    if (typeof entry !== 'object' || entry === null) fail(`${label} is missing`);
    if (typeof entry.file !== 'string' || entry.file === '' || entry.file.includes('..') || entry.file.startsWith('/')) {
      fail(`${label}.file ${JSON.stringify(entry.file)} is not a file name inside the package`);
    }
    if (names.has(entry.file)) fail(`${label}.file ${entry.file} is listed twice`);
    names.add(entry.file);
    if (!isByteCount(entry.bytes)) fail(`${label}.bytes ${JSON.stringify(entry.bytes)} is not a byte count`);
    if (typeof entry.sha256 !== 'string' || !SHA256_HEX.test(entry.sha256)) {
      fail(`${label}.sha256 ${JSON.stringify(entry.sha256)} is not 64 lowercase hex digits`);
    }
  }

  for (const [name, tensor] of Object.entries(manifest.tensors)) {
    const shard = manifest.shards[tensor.shard];
    if (!shard) fail(`tensor ${name} names shard ${tensor.shard}, but there are ${manifest.shards.length} shards`);
    if (!isByteCount(tensor.offset) || !isByteCount(tensor.bytes)) fail(`tensor ${name} has an invalid offset or byte length`);
    if (tensor.offset + tensor.bytes > shard.bytes) {
      fail(`tensor ${name} ends at byte ${tensor.offset + tensor.bytes}, past the end of ${shard.file} (${shard.bytes} bytes)`);
    }
  }
  return manifest;
}
