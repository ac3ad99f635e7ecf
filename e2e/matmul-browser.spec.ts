/**
 * The BitLinear quantizer, the ternary product and the dense product compile and run on
 * Chromium's WebGPU (dot4I8Packed, subgroups, split dense weights) and agree with the CPU
 * references, for every variant the adapter offers. The spec serves the harness page
 * (`e2e/harness/matmul.html`) from its own Vite dev server on 127.0.0.1.
 */
import { expect, test } from '@playwright/test';

import { denseMagnitude, denseReference } from '../app/engine/reference/dense.ts';
import { quantizeReference, ternaryAccumulate, ternaryRescale } from '../app/engine/reference/bitlinear.ts';
import { encodeHalf, halfToFloat } from '../app/engine/model/half.ts';
import { packTernary } from '../app/engine/ternary/pack.ts';
import type { MatmulRequest, MatmulResult } from './harness/matmul.ts';
import { startHarnessServer, type HarnessServer } from './harness-server.ts';

let harness: HarnessServer;

test.beforeAll(async () => {
  harness = await startHarnessServer('e2e/harness/matmul.html');
});

test.afterAll(async () => {
  await harness?.close();
});

/** Deterministic values in [0, 1) (a linear congruential sequence), so failures reproduce. */
function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test('matmul kernels match CPU references', async ({ page }) => {
  // 11 tokens, 45 outputs, 208 inputs: no multiple of any workgroup, row block or tile.
  const tokens = 11;
  const inFeatures = 208;
  const outFeatures = 45;
  const next = sequence(9);
  const x = Array.from({ length: tokens * inFeatures }, () => Math.fround(6 * next() - 3));
  const codes = Int8Array.from({ length: outFeatures * inFeatures }, () => Math.floor(3 * next()) - 1);
  const dense = Float32Array.from({ length: outFeatures * inFeatures }, () => 2 * next() - 1);
  const halves = encodeHalf(dense);
  const request: MatmulRequest = {
    x,
    ternaryWords: Array.from(packTernary(codes, outFeatures, inFeatures)),
    denseHalves: Array.from(halves),
    tokens,
    inFeatures,
    outFeatures,
  };

  await page.goto(harness.url);
  await page.waitForFunction(() => 'matmulHarness' in window);
  const output: MatmulResult = await page.evaluate((req) => window.matmulHarness.run(req), request);
  if ('error' in output) throw new Error(`Matmul kernels failed in the browser: ${output.error.name}: ${output.error.message}`);
  test.info().annotations.push({ type: 'adapter', description: output.adapter });
  expect(output.results.length).toBeGreaterThan(0);

  const xs = new Float32Array(x);
  const reference = quantizeReference(xs, tokens, inFeatures);
  const storedDense = Float32Array.from(halves, halfToFloat);
  const denseWant = denseReference(xs, storedDense, undefined, tokens, inFeatures, outFeatures);
  const denseScale = denseMagnitude(xs, storedDense, tokens, inFeatures, outFeatures);

  for (const result of output.results) {
    const what = (name: string) => `${result.variant} ${name}`;

    // Quantizer: sx within 1e-5 relative, xq within 1 where an ulp crosses a rounding boundary.
    let flips = 0;
    for (let i = 0; i < reference.q.length; i++) {
      const d = Math.abs(result.q[i] - reference.q[i]);
      expect(d, what(`xq[${i}]`)).toBeLessThanOrEqual(1);
      flips += d;
    }
    expect(flips, what('xq flips')).toBeLessThanOrEqual(reference.q.length / 200);
    for (let t = 0; t < tokens; t++) expect(Math.abs(result.scales[t] - reference.scales[t]), what(`sx[${t}]`)).toBeLessThanOrEqual(1e-5 * reference.scales[t]);

    // Ternary: the exact integer product of the GPU's own xq, rescaled by its own sx (1e-6 relative).
    const gpuQ = Int8Array.from(result.q);
    const gpuScales = Float32Array.from(result.scales);
    const ternaryWant = ternaryRescale(ternaryAccumulate(gpuQ, codes, tokens, inFeatures, outFeatures), gpuScales, 1, tokens, outFeatures);
    for (let i = 0; i < ternaryWant.length; i++) {
      expect(Math.abs(result.ternaryMatmul[i] - ternaryWant[i]), what(`ternary matmul[${i}]`)).toBeLessThanOrEqual(1e-6 * Math.abs(ternaryWant[i]));
    }
    for (let n = 0; n < outFeatures; n++) {
      expect(Math.abs(result.ternaryMatvec[n] - ternaryWant[n]), what(`ternary mat-vec[${n}]`)).toBeLessThanOrEqual(1e-6 * Math.abs(ternaryWant[n]));
    }

    // Dense f16, split into parts of 8 rows: within 1e-6 of Σ|x · w|.
    for (let i = 0; i < denseWant.length; i++) {
      expect(Math.abs(result.denseMatmul[i] - denseWant[i]), what(`dense matmul[${i}]`)).toBeLessThanOrEqual(1e-6 * denseScale[i]);
    }
    for (let n = 0; n < outFeatures; n++) {
      expect(Math.abs(result.denseMatvec[n] - denseWant[n]), what(`dense mat-vec[${n}]`)).toBeLessThanOrEqual(1e-6 * denseScale[n]);
    }
  }
});
