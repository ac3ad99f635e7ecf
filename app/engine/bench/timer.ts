import type { Dispatch, GpuContext } from '../gpu/context.ts';

export interface Timing {
  /** Median over the timed runs, in milliseconds. */
  medianMs: number;
  samplesMs: number[];
  /**
   * `timestamp-query`: GPU timestamps around each sample's compute pass. `wall`: wall time from
   * submit to `onSubmittedWorkDone`, one sample a submit, which adds the submit and wake-up latency.
   */
  method: 'timestamp-query' | 'wall';
  /** Runs encoded back to back in each sample; times are divided by it. */
  repeat: number;
}

export interface TimingOptions {
  /** Timed runs (default 15). */
  runs?: number;
  /** Untimed runs first, to compile pipelines and warm caches (default 2). */
  warmup?: number;
  /** Times with wall time even when the device has `timestamp-query`. */
  wallTime?: boolean;
  /**
   * Shortest sample worth timing, in ms (default 2). Dawn rounds timestamps (to 65.5 µs on
   * SwiftShader here, 100 µs in Chrome), so a kernel shorter than this is repeated inside each
   * sample until the sample lasts about this long.
   */
  minSampleMs?: number;
}

/** Median of `values`, the mean of the middle two for an even count. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Times `dispatches` and returns the median time of one run (all of them, in one compute pass).
 * A short run is repeated within each sample, so the dispatches must give the same result when
 * run again (no accumulating into their output).
 */
export async function timeDispatches(ctx: GpuContext, dispatches: readonly Dispatch[], options: TimingOptions = {}): Promise<Timing> {
  const runs = options.runs ?? 15;
  const warmup = options.warmup ?? 2;
  const minSampleMs = options.minSampleMs ?? 2;

  for (let i = 0; i < warmup; i++) ctx.run(dispatches, 'timing warm-up');
  await ctx.device.queue.onSubmittedWorkDone();
  ctx.throwUncaptured();

  const sample = ctx.has('timestamp-query') && !options.wallTime ? timestampSamples : wallSamples;
  const method = sample === timestampSamples ? 'timestamp-query' : 'wall';
  let repeat = 1;
  let samplesMs = await sample(ctx, dispatches, 3, repeat);
  const probeMs = median(samplesMs);
  if (probeMs < minSampleMs) {
    // Timestamps of 0 mean the run is shorter than their rounding: assume a hundredth of a millisecond.
    repeat = Math.min(4096, Math.ceil(minSampleMs / Math.max(probeMs, 0.01)));
  }
  samplesMs = (await sample(ctx, dispatches, runs, repeat)).map((ms) => ms / repeat);
  ctx.throwUncaptured();
  return { medianMs: median(samplesMs), samplesMs, method, repeat };
}

/** Measures `runs` samples with GPU timestamps, one compute pass of `repeat` copies of `dispatches` each. */
async function timestampSamples(ctx: GpuContext, dispatches: readonly Dispatch[], runs: number, repeat: number): Promise<number[]> {
  const device = ctx.device;
  const querySet = device.createQuerySet({ label: 'timing queries', type: 'timestamp', count: 2 * runs });
  const resolved = device.createBuffer({ label: 'timing resolved', size: 16 * runs, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const repeated = Array.from({ length: repeat }, () => dispatches).flat();
  const encoder = device.createCommandEncoder({ label: 'timing' });
  for (let i = 0; i < runs; i++) {
    ctx.encode(encoder, repeated, { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 });
  }
  encoder.resolveQuerySet(querySet, 0, 2 * runs, resolved, 0);
  device.queue.submit([encoder.finish()]);
  const stamps = new BigUint64Array(await ctx.read(resolved));
  querySet.destroy();
  resolved.destroy();
  const samplesMs: number[] = [];
  for (let i = 0; i < runs; i++) samplesMs.push(Number(stamps[2 * i + 1] - stamps[2 * i]) / 1e6);
  return samplesMs;
}

/** Measures `runs` samples by wall clock, one submit of `repeat` copies of `dispatches` each, until the queue is done. */
async function wallSamples(ctx: GpuContext, dispatches: readonly Dispatch[], runs: number, repeat: number): Promise<number[]> {
  const repeated = Array.from({ length: repeat }, () => dispatches).flat();
  const samplesMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    ctx.run(repeated, 'timing');
    await ctx.device.queue.onSubmittedWorkDone();
    samplesMs.push(performance.now() - start);
  }
  return samplesMs;
}
