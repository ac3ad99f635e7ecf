import { describe, expect, it } from 'vitest';
import { addKernel, biasAddKernel, geluKernel, swigluKernel } from './elementwise.ts';
import { erf, geluReference, quickGeluReference, swigluReference } from '../reference/activation.ts';
import { expectClose, maxAbsDiff, randomFloats, testContext } from '../../test/gpu.ts';
import { ShapeError } from '../gpu/errors.ts';

// Python 3.11 math.erf at these points.
const PYTHON_ERF: [number, number][] = [
  [-3.5, -0.9999992569016276],
  [-2.0001, -0.9953243313041966],
  [-1.9999, -0.9953201979070294],
  [-0.001, -0.0011283787909692365],
  [1e-6, 1.1283791670951364e-6],
  [0.3, 0.3286267594591274],
  [1.5, 0.9661051464753108],
  [2.0, 0.9953222650189527],
  [2.7, 0.9998656672600594],
  [3.3, 0.9999969422902035],
  [3.9, 0.9999999652077514],
  [4.5, 0.9999999998033839],
];

/** Inputs covering both erf branches densely, their boundary at |x| = √2 (|z| = 1), and large magnitudes. */
function geluInputs(): Float32Array {
  const values: number[] = [];
  for (let v = -9; v <= 9; v += 0.0137) values.push(v);
  values.push(Math.SQRT2, -Math.SQRT2, Math.fround(Math.SQRT2) * (1 + 2 ** -23), 14.2, -14.2, 14.1, -14.1, 0, -0, 1e-30, -1e-30, 40, -40, 1e6, -1e6, 3e38);
  return Float32Array.from(values);
}

describe('erf reference', () => {
  it('matches Python math.erf', () => {
    for (const [z, expected] of PYTHON_ERF) expect(Math.abs(erf(z) - expected)).toBeLessThan(2e-15);
  });
});

describe('gelu kernel', () => {
  it('matches exact GELU to about 1e-7', async () => {
    const ctx = await testContext();
    const x = geluInputs();
    const input = ctx.upload('gelu x', x);
    const output = ctx.createBuffer('gelu y', x.byteLength);
    ctx.run([geluKernel(ctx, input, output, x.length, 'exact')]);
    const out = new Float32Array(await ctx.read(output));
    const expected = geluReference(x);
    // ½(1 + erf) to 1.5e-7 absolute, times |x|, plus one f32 rounding of the result.
    for (let i = 0; i < x.length; i++) {
      const tol = 1.5e-7 * Math.max(1, Math.abs(x[i])) + 6e-8 * Math.abs(expected[i]);
      if (!(Math.abs(out[i] - expected[i]) <= tol)) throw new Error(`gelu(${x[i]}) = ${out[i]}, expected ${expected[i]}`);
    }
  });

  it('matches quick_gelu', async () => {
    const ctx = await testContext();
    const x = geluInputs();
    const input = ctx.upload('quick gelu x', x);
    const output = ctx.createBuffer('quick gelu y', x.byteLength);
    ctx.run([geluKernel(ctx, input, output, x.length, 'quick')]);
    const out = new Float32Array(await ctx.read(output));
    expectClose(out, quickGeluReference(x), 1e-6, 1e-6, 'quick_gelu');
  });
});

describe('swiglu kernel', () => {
  it('silu of gate times first half', async () => {
    const ctx = await testContext();
    const rows = 3;
    const hidden = 333;
    const u = randomFloats(rows * 2 * hidden, 11, -8, 8);
    u[hidden] = -200; // gate of row 0 column 0: e^200 is inf in f32
    u[hidden + 1] = 200;
    const input = ctx.upload('swiglu u', u);
    const output = ctx.createBuffer('swiglu y', rows * hidden * 4);
    ctx.run([swigluKernel(ctx, input, output, rows, hidden)]);
    const out = new Float32Array(await ctx.read(output));
    expectClose(out, swigluReference(u, rows, hidden), 1e-5, 1e-5, 'swiglu');
    expect(out.every(Number.isFinite)).toBe(true);
  });

  it('rejects an output that is too small', async () => {
    const ctx = await testContext();
    const u = ctx.createBuffer('swiglu u', 2 * 10 * 4);
    const y = ctx.createBuffer('swiglu y', 4 * 4);
    expect(() => swigluKernel(ctx, u, y, 1, 10)).toThrow(ShapeError);
  });
});

describe('add kernels', () => {
  it('adds a residual in place', async () => {
    const ctx = await testContext();
    const n = 1001;
    const a = randomFloats(n, 12);
    const b = randomFloats(n, 13);
    const buffer = ctx.upload('residual', a);
    ctx.run([addKernel(ctx, buffer, ctx.upload('addend', b), n)]);
    const out = new Float32Array(await ctx.read(buffer));
    expect(maxAbsDiff(out.subarray(0, n), Float32Array.from(a, (v, i) => v + b[i])).max).toBe(0);
  });

  it('adds a bias to every row', async () => {
    const ctx = await testContext();
    const rows = 5;
    const cols = 77;
    const a = randomFloats(rows * cols, 14);
    const bias = randomFloats(cols, 15);
    const buffer = ctx.upload('biased', a);
    ctx.run([biasAddKernel(ctx, buffer, ctx.upload('bias', bias), rows, cols)]);
    const out = new Float32Array(await ctx.read(buffer));
    expect(maxAbsDiff(out.subarray(0, rows * cols), Float32Array.from(a, (v, i) => v + bias[i % cols])).max).toBe(0);
  });
});
