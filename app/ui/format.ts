/** Number formatting for the progress bar, the storage line and the speed readouts. */

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** Formats a byte count in decimal units, e.g. 1_234_567 → "1.2 MB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

const BINARY_UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];

/**
 * Formats a GPU limit in binary units, which such limits are powers of: 2 ** 30 → "1 GiB",
 * 16_384 → "16 KiB", 1.5 * 2 ** 20 → "1.5 MiB".
 */
export function formatLimit(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${BINARY_UNITS[unit]}`;
}

/** Formats a transfer rate, e.g. "3.4 MB/s". */
export function formatRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '–';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Formats a duration in seconds as "45 s", "3 min 20 s" or "1 h 5 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Seconds until `total` bytes are done at the current rate, or Infinity when the rate is unknown. */
export function secondsLeft(done: number, total: number, bytesPerSecond: number): number {
  if (bytesPerSecond <= 0 || total <= 0) return Number.POSITIVE_INFINITY;
  return Math.max(0, total - done) / bytesPerSecond;
}

/** Whole percent of `done` out of `total`, clamped to 0–100. */
export function percent(done: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(100, Math.max(0, Math.floor((done / total) * 100)));
}

/**
 * Tokens per second over decoding alone. The first token arrives after the prompt and photo have
 * been read, so the rate counts only the tokens after it and the time since it arrived.
 */
export class DecodeRate {
  private first: { count: number; ms: number } | null = null;

  /** Notes that `tokenCount` tokens have arrived by `nowMs`; returns the rate, or undefined until two tokens have. */
  add(tokenCount: number, nowMs: number): number | undefined {
    if (!this.first) {
      this.first = { count: tokenCount, ms: nowMs };
      return undefined;
    }
    const seconds = (nowMs - this.first.ms) / 1000;
    return seconds > 0 && tokenCount > this.first.count ? (tokenCount - this.first.count) / seconds : undefined;
  }
}
