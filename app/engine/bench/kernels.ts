/**
 * `trit bench --kernels`: median GPU time of the mat-vecs of the real model's shapes for the
 * ternary kernel and the dense f16 and f32 kernels, against the copy kernel's bandwidth.
 */
import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { copyKernel } from '../kernels/copy.ts';
import { bytesPerElement, denseLinear, rowsPerBinding, type DenseDtype, type DenseWeight } from '../kernels/dense.ts';
import type { KernelVariant } from '../kernels/tuning.ts';
import { ternaryLinear } from '../kernels/ternary.ts';
import { timeDispatches, type Timing } from './timer.ts';

/** Mat-vec shapes of LLaVaOLMoBitnet1B as rows × cols = out × in. */
export const MODEL_MATVEC_SHAPES: readonly { name: string; rows: number; cols: number }[] = [
  { name: 'att_proj', rows: 6144, cols: 2048 },
  { name: 'attn_out', rows: 2048, cols: 2048 },
  { name: 'ff_proj', rows: 16384, cols: 2048 },
  { name: 'ff_out', rows: 2048, cols: 8192 },
  { name: 'head', rows: 50304, cols: 2048 },
];

export type BenchKernel = 'ternary' | 'f16' | 'f32';

export interface KernelBenchResult {
  kernel: BenchKernel;
  rows: number;
  cols: number;
  medianMs: number;
  /** Bytes of weights and activations read, divided by the median time, in 10^9 bytes a second. */
  GBps: number;
}

export interface KernelBenchReport {
  adapter: string;
  /** The copy kernel's bandwidth, bytes read plus bytes written, in 10^9 bytes a second. */
  copyGBps: number;
  results: KernelBenchResult[];
}

export interface KernelBenchOptions {
  variant: KernelVariant;
  runs?: number;
  wallTime?: boolean;
  shapes?: readonly { rows: number; cols: number }[];
  kernels?: readonly BenchKernel[];
  /** Bytes of the copy kernel's buffers (default 64 MiB, larger than any GPU cache). */
  copyBytes?: number;
  /** Called with each result as it is measured, for progress output. */
  onResult?: (result: KernelBenchResult) => void;
}

/** Bytes a mat-vec of `kernel` reads: the weights plus one token's activations. */
export function bytesRead(kernel: BenchKernel, rows: number, cols: number): number {
  if (kernel === 'ternary') return (rows * cols) / 4 + cols + 4;
  return rows * cols * bytesPerElement(kernel) + cols * 4;
}

/** Builds the dispatches of one mat-vec over zero-filled buffers; returns them and the buffers to free. */
function buildMatvec(ctx: GpuContext, kernel: BenchKernel, rows: number, cols: number, variant: KernelVariant): { dispatches: Dispatch[]; buffers: GPUBuffer[] } {
  const output = ctx.createBuffer('bench output', rows * 4);
  if (kernel === 'ternary') {
    const q = ctx.createBuffer('bench activations', cols);
    const scales = ctx.upload('bench scales', new Float32Array([1]));
    const weight = ctx.createBuffer(`bench ternary ${rows}×${cols}`, (rows * cols) / 4);
    const dispatch = ternaryLinear(ctx, { q, scales, weight, sw: 1, tokens: 1, inFeatures: cols, outFeatures: rows, output }, variant);
    return { dispatches: [dispatch], buffers: [output, q, scales, weight] };
  }
  const dtype: DenseDtype = kernel;
  const input = ctx.createBuffer('bench input', cols * 4);
  const rowsPerPart = Math.min(rows, rowsPerBinding(ctx.maxBindingSize, cols, dtype));
  const parts: GPUBuffer[] = [];
  for (let first = 0; first < rows; first += rowsPerPart) {
    parts.push(ctx.createBuffer(`bench ${dtype} ${rows}×${cols} from row ${first}`, Math.min(rowsPerPart, rows - first) * cols * bytesPerElement(dtype)));
  }
  const weight: DenseWeight = { parts, rowsPerPart, dtype };
  const dispatches = denseLinear(ctx, { input, weight, tokens: 1, inFeatures: cols, outFeatures: rows, output }, variant);
  return { dispatches, buffers: [output, input, ...parts] };
}

/** Measures the copy kernel's bandwidth. */
export async function benchCopy(ctx: GpuContext, bytes: number, options: { runs?: number; wallTime?: boolean } = {}): Promise<{ GBps: number; timing: Timing }> {
  const src = ctx.createBuffer('bench copy src', bytes);
  const dst = ctx.createBuffer('bench copy dst', bytes);
  try {
    const timing = await timeDispatches(ctx, [copyKernel(ctx, src, dst, bytes)], options);
    return { GBps: (2 * bytes) / (timing.medianMs * 1e6), timing };
  } finally {
    src.destroy();
    dst.destroy();
  }
}

/** Runs the kernel benchmark on `ctx`; `adapter` is the line that names the adapter in the report. */
export async function runKernelBench(ctx: GpuContext, adapter: string, options: KernelBenchOptions): Promise<KernelBenchReport & { timingMethod: Timing['method'] }> {
  const runs = options.runs ?? 15;
  const copy = await benchCopy(ctx, options.copyBytes ?? 64 * 2 ** 20, { runs, wallTime: options.wallTime });
  const results: KernelBenchResult[] = [];
  for (const { rows, cols } of options.shapes ?? MODEL_MATVEC_SHAPES) {
    for (const kernel of options.kernels ?? (['ternary', 'f16', 'f32'] as const)) {
      const { dispatches, buffers } = buildMatvec(ctx, kernel, rows, cols, options.variant);
      try {
        const timing = await timeDispatches(ctx, dispatches, { runs, wallTime: options.wallTime });
        const result: KernelBenchResult = { kernel, rows, cols, medianMs: timing.medianMs, GBps: bytesRead(kernel, rows, cols) / (timing.medianMs * 1e6) };
        results.push(result);
        options.onResult?.(result);
      } finally {
        for (const buffer of buffers) buffer.destroy();
      }
    }
  }
  return { adapter, copyGBps: copy.GBps, results, timingMethod: copy.timing.method };
}

/** Formats a report as a table with the fraction of copy bandwidth and the ternary speed-ups. */
export function formatKernelReport(report: KernelBenchReport, notes: string[]): string {
  const lines = [`adapter: ${report.adapter}`, ...notes, `copy: ${report.copyGBps.toFixed(2)} GB/s (read + write)`, ''];
  lines.push(`${'kernel'.padEnd(8)} ${'rows×cols'.padEnd(12)} ${'median ms'.padStart(10)} ${'GB/s'.padStart(8)} ${'of copy'.padStart(8)}`);
  for (const r of report.results) {
    const fraction = r.GBps / report.copyGBps;
    lines.push(`${r.kernel.padEnd(8)} ${`${r.rows}×${r.cols}`.padEnd(12)} ${r.medianMs.toFixed(3).padStart(10)} ${r.GBps.toFixed(2).padStart(8)} ${fraction.toFixed(2).padStart(8)}`);
  }
  const speedUps: string[] = [];
  for (const t of report.results.filter((r) => r.kernel === 'ternary')) {
    const ratio = (kernel: BenchKernel) => {
      const dense = report.results.find((r) => r.kernel === kernel && r.rows === t.rows && r.cols === t.cols);
      return dense ? `${(dense.medianMs / t.medianMs).toFixed(2)}×` : '-';
    };
    speedUps.push(`${`${t.rows}×${t.cols}`.padEnd(12)} ${ratio('f16').padStart(8)} ${ratio('f32').padStart(8)}`);
  }
  if (speedUps.length) {
    lines.push('', 'ternary speed-up (dense time ÷ ternary time):', `${'rows×cols'.padEnd(12)} ${'vs f16'.padStart(8)} ${'vs f32'.padStart(8)}`, ...speedUps);
  }
  return lines.join('\n');
}
