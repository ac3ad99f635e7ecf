import { describe, expect, it } from 'vitest';
import { ternaryLinear } from './ternary.ts';
import { quantizeActivations } from './quantize.ts';
import { kernelVariant } from './select.ts';
import { variantsFor } from './testing.ts';
import type { KernelVariant } from './tuning.ts';
import type { GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { packInt8, quantizeReference, ternaryAccumulate, ternaryRescale } from '../reference/bitlinear.ts';
import { packTernary, unpackTernary } from '../ternary/pack.ts';
import { randomFloats, rng, testContext } from '../../test/gpu.ts';

// Tolerances: with sx and sw powers of two the rescale is exact, so y must equal acc / (sx · sw)
// bit for bit, which checks the integer accumulator exactly. With arbitrary scales y is within
// 1e-6 relative of the reference (WGSL division may be off by a few ulps).

function randomInt8(n: number, seed: number): Int8Array {
  const next = rng(seed);
  return Int8Array.from({ length: n }, () => Math.floor(next() * 256) - 128);
}

function randomTernary(n: number, seed: number): Int8Array {
  const next = rng(seed);
  return Int8Array.from({ length: n }, () => Math.floor(next() * 3) - 1);
}

interface Case {
  tokens: number;
  inFeatures: number;
  outFeatures: number;
  q: Int8Array;
  weights: Int8Array;
  scales: Float32Array;
  sw: number;
  initial?: Float32Array;
}

async function runTernary(ctx: GpuContext, c: Case, variant: KernelVariant): Promise<Float32Array> {
  const q = ctx.upload('ternary test q', packInt8(c.q));
  const scales = ctx.upload('ternary test scales', c.scales);
  const weight = ctx.upload('ternary test weight', packTernary(c.weights, c.outFeatures, c.inFeatures));
  const output = c.initial ? ctx.upload('ternary test output', c.initial) : ctx.createBuffer('ternary test output', c.tokens * c.outFeatures * 4);
  const dispatch = ternaryLinear(ctx, { q, scales, weight, sw: c.sw, tokens: c.tokens, inFeatures: c.inFeatures, outFeatures: c.outFeatures, output, accumulate: c.initial !== undefined }, variant);
  ctx.run([dispatch]);
  const y = new Float32Array(await ctx.read(output, c.tokens * c.outFeatures * 4));
  for (const b of [q, scales, weight, output]) b.destroy();
  return y;
}

/** A case with power-of-two scales, so y = acc / (sx · sw) is exact in f32. */
function exactCase(tokens: number, inFeatures: number, outFeatures: number, seed: number): Case {
  return {
    tokens,
    inFeatures,
    outFeatures,
    q: randomInt8(tokens * inFeatures, seed),
    weights: randomTernary(outFeatures * inFeatures, seed + 1),
    scales: Float32Array.from({ length: tokens }, (_, t) => 2 ** (t % 5) / 8),
    sw: 0.5,
  };
}

function expected(c: Case): Float32Array {
  const acc = ternaryAccumulate(c.q, c.weights, c.tokens, c.inFeatures, c.outFeatures);
  const y = ternaryRescale(acc, c.scales, c.sw, c.tokens, c.outFeatures);
  if (c.initial) for (let i = 0; i < y.length; i++) y[i] += c.initial[i];
  return y;
}

describe('ternary packing', () => {
  it('round-trips every code position', () => {
    const weights = randomTernary(3 * 48, 5);
    expect(Array.from(unpackTernary(packTernary(weights, 3, 48), 3, 48))).toEqual(Array.from(weights));
  });

  it('puts column 16g + 4j + l at bits 8l + 2j', () => {
    const weights = new Int8Array(16).fill(-1); // code 0
    weights[6] = 1; // j = 1, l = 2: code 2 at bit 18
    expect(packTernary(weights, 1, 16)[0]).toBe(2 << 18);
  });
});

describe('ternaryLinear', async () => {
  const ctx = await testContext();

  for (const { name, variant } of variantsFor(ctx)) {
    describe(name, () => {
      it('mat-vec accumulates exactly on odd shapes', async () => {
        // 37 rows: no multiple of 4 or 8 rows a workgroup. 13 words a row: fewer than the threads.
        const c = exactCase(1, 208, 37, 1);
        expect(Array.from(await runTernary(ctx, c, variant))).toEqual(Array.from(expected(c)));
      });

      it('mat-vec strides rows longer than a workgroup', async () => {
        const c = exactCase(1, 16 * 150, 9, 2); // 150 words: threads take two or three each
        expect(Array.from(await runTernary(ctx, c, variant))).toEqual(Array.from(expected(c)));
      });

      it('matmul accumulates exactly on odd shapes', async () => {
        // 37 tokens × 45 rows: no multiple of the 32-token and 32-row workgroup tiles.
        const c = exactCase(37, 96, 45, 3);
        expect(Array.from(await runTernary(ctx, c, variant))).toEqual(Array.from(expected(c)));
        // Past one 64 × 64 workgroup tile in both directions; 5 words, not a multiple of 4.
        const wide = exactCase(70, 80, 130, 10);
        expect(Array.from(await runTernary(ctx, wide, variant))).toEqual(Array.from(expected(wide)));
      });

      it('handles extreme activations', async () => {
        // All activations -128 against all +1: acc = -128 · 8192 = -2^20, the largest accumulator the model can reach.
        for (const tokens of [1, 3]) {
          const inFeatures = 8192;
          const c: Case = {
            tokens,
            inFeatures,
            outFeatures: 5,
            q: new Int8Array(tokens * inFeatures).fill(-128),
            weights: new Int8Array(5 * inFeatures).fill(1),
            scales: new Float32Array(tokens).fill(1),
            sw: 1,
          };
          c.q.fill(127, 0, 100); // some +127 in the first token
          c.weights.fill(-1, inFeatures, 2 * inFeatures); // row 1 all -1
          c.weights.fill(0, 2 * inFeatures, 3 * inFeatures); // row 2 all 0
          const y = await runTernary(ctx, c, variant);
          expect(y[0]).toBe(127 * 100 - 128 * (inFeatures - 100));
          expect(y[2]).toBe(0);
          expect(Array.from(y)).toEqual(Array.from(expected(c)));
        }
      });

      it('adds into the output when accumulating', async () => {
        for (const tokens of [1, 6]) {
          const c = exactCase(tokens, 64, 19, 4);
          c.initial = Float32Array.from({ length: tokens * 19 }, (_, i) => i - 50);
          expect(Array.from(await runTernary(ctx, c, variant))).toEqual(Array.from(expected(c)));
        }
      });

      it('rescales by arbitrary sx and sw', async () => {
        for (const tokens of [1, 4]) {
          const c = exactCase(tokens, 128, 21, 6);
          c.scales = Float32Array.from({ length: tokens }, (_, t) => 0.37 + t * 11.3);
          c.sw = 1 / 0.0123;
          const y = await runTernary(ctx, c, variant);
          const want = expected(c);
          for (let i = 0; i < want.length; i++) expect(Math.abs(y[i] - want[i]), `y[${i}]`).toBeLessThanOrEqual(1e-6 * Math.abs(want[i]));
        }
      });

      it('follows the quantizer end to end', async () => {
        // The GPU's own xq and sx feed the product, so the integer part can be checked exactly.
        const tokens = 3;
        const inFeatures = 320;
        const outFeatures = 24;
        const x = randomFloats(tokens * inFeatures, 7, -2, 2);
        const input = ctx.upload('ternary chain x', x);
        const q = ctx.createBuffer('ternary chain q', tokens * inFeatures);
        const scales = ctx.createBuffer('ternary chain scales', tokens * 4);
        const weights = randomTernary(outFeatures * inFeatures, 8);
        const weight = ctx.upload('ternary chain weight', packTernary(weights, outFeatures, inFeatures));
        const output = ctx.createBuffer('ternary chain y', tokens * outFeatures * 4);
        ctx.run([
          quantizeActivations(ctx, { input, rows: tokens, cols: inFeatures, q, scales }, variant),
          ternaryLinear(ctx, { q, scales, weight, sw: 2, tokens, inFeatures, outFeatures, output }, variant),
        ]);
        const gpuQ = new Int8Array(await ctx.read(q));
        const gpuScales = new Float32Array(await ctx.read(scales));
        const y = new Float32Array(await ctx.read(output));
        const reference = quantizeReference(x, tokens, inFeatures);
        let flips = 0;
        for (let i = 0; i < gpuQ.length; i++) flips += Math.abs(gpuQ[i] - reference.q[i]);
        expect(flips).toBeLessThanOrEqual(gpuQ.length / 200);
        const want = ternaryRescale(ternaryAccumulate(gpuQ, weights, tokens, inFeatures, outFeatures), gpuScales, 2, tokens, outFeatures);
        for (let i = 0; i < want.length; i++) expect(Math.abs(y[i] - want[i]), `y[${i}]`).toBeLessThanOrEqual(1e-6 * Math.abs(want[i]));
      });
    });
  }

  it('runs on a device without subgroups', async () => {
    const plain = await testContext({ disableFeatures: ['subgroups'] });
    const variant = kernelVariant(plain);
    expect(variant.reduction).toBe('workgroup');
    for (const tokens of [1, 3]) {
      const c = exactCase(tokens, 208, 37, 9);
      expect(Array.from(await runTernary(plain, c, variant))).toEqual(Array.from(expected(c)));
    }
  });

  it('rejects inFeatures not a multiple of 16', () => {
    const buffer = ctx.createBuffer('ternary reject', 4096);
    expect(() => ternaryLinear(ctx, { q: buffer, scales: buffer, weight: buffer, sw: 1, tokens: 1, inFeatures: 40, outFeatures: 2, output: buffer })).toThrow(ShapeError);
  });

  it('rejects a weight too small for the shape', () => {
    const buffer = ctx.createBuffer('ternary big', 4096);
    const weight = ctx.createBuffer('ternary small weight', 64);
    expect(() => ternaryLinear(ctx, { q: buffer, scales: buffer, weight, sw: 1, tokens: 1, inFeatures: 64, outFeatures: 8, output: buffer })).toThrow(/weight "ternary small weight" has 64 bytes but needs 128/);
  });
});
