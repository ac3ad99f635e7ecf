/**
 * Files dropped onto the page. A package folder (`manifest.json`, shards, tokenizer) is verified
 * and stored like a download. A raw checkpoint is recognised, so the user gets the right advice.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { PackageManifest } from '../checkpoint/manifest.ts';
import { BadPackageError, CorruptShardError } from './errors.ts';
import { fileByteSource, storePackage, type StoreOptions } from './download.ts';
import { packageFiles } from './package-store.ts';
import { ProgressMeter } from './progress.ts';
import { parseManifest } from './validate-manifest.ts';

/** Dropped files by base name; a folder drop gives paths such as `pkg/shard-0.safetensors`. */
export function filesByName(files: File[]): Map<string, File> {
  const byName = new Map<string, File>();
  for (const file of files) byName.set(file.name.split('/').pop()!, file);
  return byName;
}

export type DroppedKind = 'package' | 'checkpoint';

/** Tells a package folder (has `manifest.json`) from a checkpoint (`config.json` plus `.bin` or `.safetensors`). */
export function classifyDrop(files: File[]): DroppedKind {
  const byName = filesByName(files);
  if (byName.has('manifest.json')) return 'package';
  const hasWeights = [...byName.keys()].some((n) => n.endsWith('.bin') || n.endsWith('.safetensors'));
  if (byName.has('config.json') && hasWeights) return 'checkpoint';
  const listed = [...byName.keys()].slice(0, 8).join(', ') || 'no files';
  throw new BadPackageError(
    `The dropped files (${listed}) are neither a Trit package (manifest.json with its shards and tokenizer) ` +
      'nor a checkpoint (config.json with .bin or .safetensors weights). Drop the whole folder.',
  );
}

/** Reads and checks the manifest of a dropped package, and that every file it lists was dropped with the right size. */
export async function readDroppedPackage(files: File[]): Promise<{ manifest: PackageManifest; manifestText: string; byName: Map<string, File> }> {
  const byName = filesByName(files);
  const manifestFile = byName.get('manifest.json');
  if (!manifestFile) throw new BadPackageError('The dropped files have no manifest.json. Drop the whole package folder that `trit convert` wrote.');
  const manifestText = await manifestFile.text();
  const manifest = parseManifest(manifestText, 'The dropped manifest.json');

  const missing = packageFiles(manifest).filter((f) => !byName.has(f.file)).map((f) => f.file);
  if (missing.length > 0) throw new BadPackageError(`The dropped package lacks ${missing.join(', ')}. Drop the whole package folder.`);
  for (const entry of packageFiles(manifest)) {
    const size = byName.get(entry.file)!.size;
    if (size !== entry.bytes) {
      throw new BadPackageError(`The dropped ${entry.file} has ${size} bytes, but the manifest lists ${entry.bytes}. Copy the package again.`);
    }
  }
  return { manifest, manifestText, byName };
}

/** Cache key of a dropped package: its name and the SHA-256 of its manifest, so the same folder dropped twice is stored once. */
export function droppedCacheKey(manifest: PackageManifest, manifestText: string): string {
  const digest = bytesToHex(sha256(new TextEncoder().encode(manifestText))).slice(0, 16);
  return `files:${manifest.name}:${digest}`;
}

/** Stores a dropped package in the cache, verifying every file; returns its cache key. */
export async function storeDroppedPackage(files: File[], options: StoreOptions): Promise<{ key: string; manifest: PackageManifest }> {
  const { manifest, manifestText, byName } = await readDroppedPackage(files);
  const key = droppedCacheKey(manifest, manifestText);
  await storePackage(key, manifest, fileByteSource(byName), options);
  return { key, manifest };
}

/**
 * Verifies every file of a dropped package without storing it, for loads with caching off. Reads
 * each file once in slices, so memory stays at one slice per file.
 */
export async function verifyDroppedPackage(
  files: File[],
  onProgress?: StoreOptions['onProgress'],
): Promise<{ manifest: PackageManifest; byName: Map<string, File> }> {
  const { manifest, byName } = await readDroppedPackage(files);
  const entries = packageFiles(manifest);
  const meter = new ProgressMeter('verify', entries, (p) => onProgress?.(p));
  for (const entry of entries) {
    const hash = sha256.create();
    const reader = (byName.get(entry.file)!.stream() as ReadableStream<Uint8Array>).getReader();
    for (let result = await reader.read(); !result.done; result = await reader.read()) {
      hash.update(result.value);
      meter.add(entry.file, result.value.byteLength);
    }
    const actual = bytesToHex(hash.digest());
    if (actual !== entry.sha256) throw new CorruptShardError(entry.file, entry.sha256, actual, 1);
  }
  meter.flush();
  return { manifest, byName };
}
