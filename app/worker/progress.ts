import type { LoadProgress } from './protocol.ts';

/** Interval between progress events, so a fast download does not flood the page with messages. */
const EMIT_INTERVAL_MS = 100;
/** Speed is averaged over this window, long enough to smooth chunk-sized bursts. */
const SPEED_WINDOW_MS = 3000;

/**
 * Counts the bytes of a load across files and emits throttled {@link LoadProgress} events with the
 * overall and per-shard totals and the speed of the bytes that came over the network.
 */
export class ProgressMeter {
  private readonly done = new Map<string, number>();
  private readonly totals = new Map<string, number>();
  private samples: { time: number; bytes: number }[] = [];
  private lastEmit = Number.NEGATIVE_INFINITY;
  private lastFile: string | undefined;

  constructor(
    private readonly phase: LoadProgress['phase'],
    files: { file: string; bytes: number }[],
    private readonly emit: (progress: LoadProgress) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    for (const f of files) {
      this.totals.set(f.file, f.bytes);
      this.done.set(f.file, 0);
    }
  }

  /** Sets the bytes of `file` known to be done, e.g. chunks already stored, without counting them as network speed. */
  set(file: string, bytes: number): void {
    this.done.set(file, bytes);
    this.lastFile = file;
    this.maybeEmit(false);
  }

  /** Adds bytes that just arrived from the network or a dropped file. */
  add(file: string, bytes: number): void {
    this.done.set(file, (this.done.get(file) ?? 0) + bytes);
    this.lastFile = file;
    this.samples.push({ time: this.now(), bytes });
    this.maybeEmit(false);
  }

  /** Emits the current totals now, regardless of the throttle. */
  flush(): void {
    this.maybeEmit(true);
  }

  snapshot(): LoadProgress {
    let bytesDone = 0;
    let bytesTotal = 0;
    for (const [file, total] of this.totals) {
      bytesTotal += total;
      bytesDone += Math.min(total, this.done.get(file) ?? 0);
    }
    const progress: LoadProgress = { phase: this.phase, bytesDone, bytesTotal, bytesPerSecond: this.speed() };
    if (this.lastFile !== undefined) {
      progress.shard = {
        file: this.lastFile,
        bytesDone: this.done.get(this.lastFile) ?? 0,
        bytesTotal: this.totals.get(this.lastFile) ?? 0,
      };
    }
    return progress;
  }

  private speed(): number {
    const now = this.now();
    this.samples = this.samples.filter((s) => now - s.time <= SPEED_WINDOW_MS);
    if (this.samples.length === 0) return 0;
    const bytes = this.samples.reduce((sum, s) => sum + s.bytes, 0);
    const elapsed = Math.max(now - this.samples[0].time, 250);
    return Math.round((bytes * 1000) / elapsed);
  }

  private maybeEmit(force: boolean): void {
    const now = this.now();
    if (!force && now - this.lastEmit < EMIT_INTERVAL_MS) return;
    this.lastEmit = now;
    this.emit(this.snapshot());
  }
}
