/**
 * Typed failures of the worker's download, storage and loading steps. Each carries the protocol's
 * error code, so the worker turns it into an `error` event without guessing from the message.
 * `errorEvent` maps these and the other layers' typed errors to that event.
 */
import { TruncatedInputError } from '../checkpoint/bytes.ts';
import { CheckpointFormatError, IntegrityError, ModelConfigError, UnsupportedCheckpointError } from '../checkpoint/errors.ts';
import { DeviceLostError, LimitTooSmallError, NoAdapterError, WebGpuUnavailableError, WgslFeatureMissingError } from '../engine/gpu/errors.ts';
import { ContextOverflowError } from '../engine/model/errors.ts';
import { ImageDecodeError } from '../image/errors.ts';
import type { StorageInfo, WorkerErrorCode, WorkerEvent } from './protocol.ts';

/** Base class of the worker's errors; `message` is a sentence a person can act on. */
export class WorkerFailure extends Error {
  override name = 'WorkerFailure';
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
    /** Storage figures from `navigator.storage.estimate()`, when the failure is about storage. */
    readonly storage?: StorageInfo,
  ) {
    super(message);
  }
}

/** The server or the network failed after the allowed retries, or the server rejected a request. */
export class DownloadError extends WorkerFailure {
  override name = 'DownloadError';
  constructor(
    readonly url: string,
    detail: string,
  ) {
    super('download', `Downloading ${url} failed: ${detail}. Check the connection and load the model again; the bytes already stored are kept.`);
  }
}

/** Error for a package URL whose server responds without a package, e.g. with a 404 or a site's index page. */
export class PackageNotFoundError extends WorkerFailure {
  override name = 'PackageNotFoundError';
  constructor(
    readonly url: string,
    /** Description of the response the server sent instead, e.g. "HTTP 404" or "the server returned a web page". */
    readonly reason: string,
  ) {
    super('not-found', `No Trit package was found at ${url} (${reason}). Check the URL.`);
  }
}

/** A shard's SHA-256 did not match the manifest, again after every allowed re-download. */
export class CorruptShardError extends WorkerFailure {
  override name = 'CorruptShardError';
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
    attempts: number,
  ) {
    super(
      'corrupt-shard',
      `Shard ${file} is corrupt: its SHA-256 is ${actual} but the manifest expects ${expected} ` +
        `(${attempts} download${attempts === 1 ? '' : 's'} tried). The package on the server may be damaged; ` +
        'convert or copy it again.',
    );
  }
}

/** A package or checkpoint that cannot be read: invalid manifest, missing files, wrong sizes. */
export class BadPackageError extends WorkerFailure {
  override name = 'BadPackageError';
  constructor(message: string) {
    super('bad-checkpoint', message);
  }
}

/** IndexedDB is missing or refuses to open, as in some private windows. */
export class StorageUnavailableError extends WorkerFailure {
  override name = 'StorageUnavailableError';
  constructor(detail: string, storage?: StorageInfo) {
    super(
      'storage-unavailable',
      `The model cannot be cached because IndexedDB is unavailable (${detail}); private windows often block it. ` +
        'Load without caching: the model then goes straight to the GPU and downloads again on every visit.',
      storage,
    );
  }
}

/** The browser refused to store more bytes for this site (`QuotaExceededError`). */
export class StorageQuotaError extends WorkerFailure {
  override name = 'StorageQuotaError';
  constructor(
    readonly bytesNeeded: number,
    storage: StorageInfo,
  ) {
    super('quota', quotaMessage(bytesNeeded, storage), storage);
  }
}

/** The download stopped because the page asked to pause it; loading again resumes it. */
export class DownloadPausedError extends Error {
  override name = 'DownloadPausedError';
  constructor() {
    super('The download was paused. Load the model again to resume it.');
  }
}

/** Formats a byte count in binary units with one decimal, e.g. "1.5 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

function quotaMessage(bytesNeeded: number, storage: StorageInfo): string {
  const figures =
    storage.usage !== undefined && storage.quota !== undefined
      ? `this site uses ${formatBytes(storage.usage)} of its ${formatBytes(storage.quota)} quota ` +
        `(${formatBytes(Math.max(0, storage.quota - storage.usage))} free)`
      : 'the browser did not report the quota';
  return (
    `The browser has no room to cache the model: it still needs ${formatBytes(bytesNeeded)}, and ${figures}. ` +
    'Delete other cached models or free disk space, or load without caching: the model then goes straight to the GPU ' +
    'and downloads again on every visit. The parts already stored are kept.'
  );
}

/** Reads `navigator.storage` in a page or a worker; fields it cannot read stay undefined. */
export async function readStorageInfo(): Promise<StorageInfo> {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  if (!storage) return {};
  const info: StorageInfo = {};
  try {
    const estimate = await storage.estimate();
    info.usage = estimate.usage;
    info.quota = estimate.quota;
  } catch {
    // Some browsers reject estimate() in private windows, so the quota message states that the quota is unknown.
  }
  try {
    info.persisted = await storage.persisted();
  } catch {
    // persisted() is missing in older workers; leave it undefined.
  }
  return info;
}

/** True for the DOMException IndexedDB raises when a write would exceed the origin's quota. */
export function isQuotaExceeded(error: unknown): boolean {
  return error instanceof DOMException && (error.name === 'QuotaExceededError' || error.code === 22);
}

/** Maps a thrown value to the protocol's error code; errors of unknown type become `internal`. */
export function errorCode(error: unknown): WorkerErrorCode {
  if (error instanceof WorkerFailure) return error.code;
  if (error instanceof WebGpuUnavailableError) return 'no-webgpu';
  if (error instanceof NoAdapterError) return 'no-adapter';
  if (error instanceof LimitTooSmallError || error instanceof WgslFeatureMissingError) return 'limit';
  if (error instanceof DeviceLostError) return 'device-lost';
  if (error instanceof ContextOverflowError) return 'context-overflow';
  if (error instanceof ImageDecodeError) return 'bad-image';
  if (
    error instanceof CheckpointFormatError ||
    error instanceof UnsupportedCheckpointError ||
    error instanceof ModelConfigError ||
    error instanceof TruncatedInputError
  ) {
    return 'bad-checkpoint';
  }
  if (error instanceof IntegrityError) return 'corrupt-shard';
  return 'internal';
}

/** Builds the `error` event of request `id` for `error`, and logs errors of unknown type to the console. */
export function errorEvent(id: number | null, error: unknown): WorkerEvent {
  const message = error instanceof Error ? error.message : String(error);
  const event: WorkerEvent = { type: 'error', id, code: errorCode(error), message };
  if (error instanceof WorkerFailure && error.storage) event.storage = error.storage;
  if (event.code === 'internal') console.error(`Request ${id ?? '(none)'} failed:`, error);
  return event;
}
