import { describe, expect, it } from 'vitest';
import { bytesRead, formatKernelReport, runKernelBench } from './kernels.ts';
import { selectVariant } from '../kernels/select.ts';
import { testContext } from '../../test/gpu.ts';

describe('kernel benchmark', () => {
  it('reports every kernel and shape asked for', async () => {
    const ctx = await testContext();
    const shapes = [{ rows: 40, cols: 64 }, { rows: 8, cols: 128 }];
    const report = await runKernelBench(ctx, 'test adapter', { variant: selectVariant(ctx), runs: 3, shapes, copyBytes: 2 ** 16 });
    expect(report.adapter).toBe('test adapter');
    expect(report.copyGBps).toBeGreaterThan(0);
    expect(report.results.map((r) => `${r.kernel} ${r.rows}×${r.cols}`)).toEqual([
      'ternary 40×64', 'f16 40×64', 'f32 40×64', 'ternary 8×128', 'f16 8×128', 'f32 8×128',
    ]);
    for (const r of report.results) {
      expect(r.medianMs).toBeGreaterThan(0);
      expect(r.GBps).toBeCloseTo(bytesRead(r.kernel, r.rows, r.cols) / (r.medianMs * 1e6), 9);
    }
    const text = formatKernelReport(report, []);
    expect(text).toMatch(/ternary speed-up/);
    expect(text).toMatch(/40×64 +[\d.]+× +[\d.]+×/);
  });

  it('counts the bytes a mat-vec reads', () => {
    expect(bytesRead('ternary', 16384, 2048)).toBe(16384 * 512 + 2048 + 4);
    expect(bytesRead('f16', 2048, 2048)).toBe(2048 * 2048 * 2 + 2048 * 4);
    expect(bytesRead('f32', 2048, 8192)).toBe(2048 * 8192 * 4 + 8192 * 4);
  });

  it('times with wall clock without timestamp-query', async () => {
    const ctx = await testContext({ disableFeatures: ['timestamp-query'] });
    const report = await runKernelBench(ctx, 'wall', { variant: selectVariant(ctx), runs: 2, shapes: [{ rows: 8, cols: 64 }], kernels: ['ternary'], copyBytes: 2 ** 14 });
    expect(report.timingMethod).toBe('wall');
    expect(report.results).toHaveLength(1);
  });
});
