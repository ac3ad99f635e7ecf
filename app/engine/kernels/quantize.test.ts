import { describe, expect, it } from 'vitest';
import { quantizeActivations } from './quantize.ts';
import { variantsFor } from './testing.ts';
import type { KernelVariant } from './tuning.ts';
import type { GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { quantizeReference } from '../reference/bitlinear.ts';
import { randomFloats, testContext } from '../../test/gpu.ts';

// Tolerances: sx within 1e-5 relative (WGSL sqrt and division may be off by a few ulps, and the
// GPU sums x² in another order). xq equal, except where such an ulp moves xn · sx across a
// rounding boundary: there |diff| = 1, at no more than 1 in 200 values. Rows built so that every
// step is exact in f32 (tie rows, zero rows) must match exactly.

async function runQuantize(ctx: GpuContext, x: Float32Array, rows: number, cols: number, variant: KernelVariant) {
  const input = ctx.upload('quantize test input', x);
  const q = ctx.createBuffer('quantize test q', rows * cols);
  const scales = ctx.createBuffer('quantize test scales', rows * 4);
  ctx.run([quantizeActivations(ctx, { input, rows, cols, q, scales }, variant)]);
  const out = { q: new Int8Array(await ctx.read(q, rows * cols)), scales: new Float32Array(await ctx.read(scales, rows * 4)) };
  for (const b of [input, q, scales]) b.destroy();
  return out;
}

/**
 * A row whose quantization is exact in f32 and hits ties: mean(x²) = 65536 exactly (so the 1e-5
 * vanishes and rms = 256), max|x| = 508 (so sx = 64), and xq = x / 4, with x = 4n + 2 a tie.
 */
function tieRow(cols: number): { row: Float32Array; expected: Int8Array } {
  const ties = [2, -2, 6, -6, 10, 14, -10, -14, 18, 502, -502, 506, -506, 508, -508];
  const row = new Float32Array(cols);
  row.set(ties);
  let remaining = cols * 65536 - ties.reduce((s, v) => s + v * v, 0);
  let i = ties.length;
  while (remaining > 0) {
    // Greedy even fillers keep `remaining` a multiple of 4, so 2² always finishes it.
    let v = Math.min(508, Math.floor(Math.sqrt(remaining)));
    v -= v % 2;
    if (i >= cols) throw new Error(`tieRow: ${cols} columns are too few`);
    row[i++] = i % 2 ? v : -v;
    remaining -= v * v;
  }
  const expected = new Int8Array(cols);
  for (let c = 0; c < cols; c++) {
    const t = row[c] / 4;
    const r = Math.round(t);
    expected[c] = Math.abs(t % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }
  return { row, expected };
}

function compareQuantized(actual: { q: Int8Array; scales: Float32Array }, expected: { q: Int8Array; scales: Float32Array }) {
  for (let r = 0; r < expected.scales.length; r++) {
    expect(Math.abs(actual.scales[r] - expected.scales[r])).toBeLessThanOrEqual(1e-5 * expected.scales[r]);
  }
  let flips = 0;
  for (let i = 0; i < expected.q.length; i++) {
    const d = Math.abs(actual.q[i] - expected.q[i]);
    expect(d, `xq[${i}]`).toBeLessThanOrEqual(1);
    flips += d;
  }
  expect(flips).toBeLessThanOrEqual(expected.q.length / 200);
}

describe('quantizeActivations', async () => {
  const ctx = await testContext();

  for (const { name, variant } of variantsFor(ctx)) {
    describe(name, () => {
      it('matches the reference on odd shapes', async () => {
        // 7 rows of 1028 columns: 257 words a row, no multiple of any workgroup size.
        const rows = 7;
        const cols = 1028;
        const x = randomFloats(rows * cols, 11, -3, 3);
        for (let c = 0; c < cols; c++) x[2 * cols + c] *= 1e3; // a row of large values
        x[4 * cols + 17] = 250; // an outlier: most of that row quantizes to 0
        compareQuantized(await runQuantize(ctx, x, rows, cols, variant), quantizeReference(x, rows, cols));
      });

      it('rounds exact ties half to even', async () => {
        const cols = 68;
        const a = tieRow(cols);
        const b = tieRow(cols);
        b.row.reverse();
        b.expected.reverse();
        const x = new Float32Array(2 * cols);
        x.set(a.row);
        x.set(b.row, cols);
        const out = await runQuantize(ctx, x, 2, cols, variant);
        expect(Array.from(out.scales)).toEqual([64, 64]);
        expect(Array.from(out.q.subarray(0, cols))).toEqual(Array.from(a.expected));
        expect(Array.from(out.q.subarray(cols))).toEqual(Array.from(b.expected));
        expect(Array.from(out.q.subarray(0, 13))).toEqual([0, 0, 2, -2, 2, 4, -2, -4, 4, 126, -126, 126, -126]);
      });

      it('clamps zero and tiny rows with 1e-5', async () => {
        const cols = 20;
        const x = new Float32Array(3 * cols);
        x.fill(1e-20, cols, 2 * cols); // x² underflows to 0
        x[2 * cols] = 1e15; // x² = 1e30 still fits f32
        x[2 * cols + 1] = -3e14;
        const out = await runQuantize(ctx, x, 3, cols, variant);
        const clamped = Math.fround(127 / Math.fround(1e-5));
        expect(out.scales[0]).toBe(clamped);
        expect(out.scales[1]).toBe(clamped);
        expect(Array.from(out.q.subarray(0, 2 * cols)).every((v) => v === 0)).toBe(true);
        expect(out.q[2 * cols]).toBe(127);
        expect(out.q[2 * cols + 1]).toBe(-38); // round(-0.3 · 127) = round(-38.1)
        expect(Array.from(out.q.subarray(2 * cols + 2)).every((v) => v === 0)).toBe(true);
        compareQuantized(out, quantizeReference(x, 3, cols));
      });
    });
  }

  it('rejects cols not a multiple of 4', () => {
    const buffer = ctx.createBuffer('quantize reject', 64);
    expect(() => quantizeActivations(ctx, { input: buffer, rows: 1, cols: 6, q: buffer, scales: buffer })).toThrow(ShapeError);
  });

  it('rejects a buffer too small for the shape', () => {
    const small = ctx.createBuffer('quantize small input', 16);
    const big = ctx.createBuffer('quantize big', 1024);
    expect(() => quantizeActivations(ctx, { input: small, rows: 2, cols: 8, q: big, scales: big })).toThrow(/input "quantize small input" has 16 bytes but needs 64/);
  });
});
