import type { Dispatch, GpuContext } from '../gpu/context.ts';

export interface Timing {
  /** Median over the timed runs, in milliseconds. */
  medianMs: number;
  samplesMs: number[];
  /**
   * `timestamp-query`: GPU timestamps around each run's compute pass. `wall`: wall time from
   * submit to `onSubmittedWorkDone`, one run a submit, which adds the submit and wake-up latency.
   */
  method: 'timestamp-query' | 'wall';
}

export interface TimingOptions {
  /** Timed runs (default 15). */
  runs?: number;
  /** Untimed runs first, to compile pipelines and warm caches (default 2). */
  warmup?: number;
  /** Times with wall time even when the device has `timestamp-query`. */
  wallTime?: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Times `dispatches` (one run = all of them, in one compute pass) and returns the median. */
export async function timeDispatches(ctx: GpuContext, dispatches: readonly Dispatch[], options: TimingOptions = {}): Promise<Timing> {
  const runs = options.runs ?? 15;
  const warmup = options.warmup ?? 2;
  const device = ctx.device;

  for (let i = 0; i < warmup; i++) ctx.run(dispatches, 'timing warm-up');
  await device.queue.onSubmittedWorkDone();
  ctx.throwUncaptured();

  if (ctx.has('timestamp-query') && !options.wallTime) {
    const querySet = device.createQuerySet({ label: 'timing queries', type: 'timestamp', count: 2 * runs });
    const resolved = device.createBuffer({ label: 'timing resolved', size: 16 * runs, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const encoder = device.createCommandEncoder({ label: 'timing' });
    for (let i = 0; i < runs; i++) {
      ctx.encode(encoder, dispatches, { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 });
    }
    encoder.resolveQuerySet(querySet, 0, 2 * runs, resolved, 0);
    device.queue.submit([encoder.finish()]);
    const stamps = new BigUint64Array(await ctx.read(resolved));
    querySet.destroy();
    resolved.destroy();
    const samplesMs: number[] = [];
    for (let i = 0; i < runs; i++) samplesMs.push(Number(stamps[2 * i + 1] - stamps[2 * i]) / 1e6);
    return { medianMs: median(samplesMs), samplesMs, method: 'timestamp-query' };
  }

  const samplesMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    ctx.run(dispatches, 'timing');
    await device.queue.onSubmittedWorkDone();
    samplesMs.push(performance.now() - start);
  }
  ctx.throwUncaptured();
  return { medianMs: median(samplesMs), samplesMs, method: 'wall' };
}
