/**
 * The kernels' TS wrappers and WGSL (LayerNorm, exact GELU, greedy sampling, KV cache write and
 * causal attention) run on Chromium's WebGPU, in the page and in a module
 * worker, and agree with the CPU references. The spec serves the harness page
 * (`e2e/harness/kernel.html`) from its own Vite dev server on 127.0.0.1.
 */
import { expect, test } from '@playwright/test';

import { geluReference } from '../app/engine/reference/activation.ts';
import { attentionReference } from '../app/engine/reference/attention.ts';
import { layerNormReference } from '../app/engine/reference/norm.ts';
import { argmaxReference } from '../app/engine/reference/sample.ts';
import type { KernelError, KernelRequest, KernelResult } from './harness/kernel-common.ts';
import { startHarnessServer, type HarnessServer } from './harness-server.ts';

let harness: HarnessServer;

test.beforeAll(async () => {
  harness = await startHarnessServer('e2e/harness/kernel.html');
});

test.afterAll(async () => {
  await harness?.close();
});

/** Deterministic values in [lo, hi) (a linear congruential sequence), so failures reproduce. */
function values(n: number, seed: number, lo: number, hi: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.fround(lo + ((hi - lo) * state) / 2 ** 32);
  });
}

function request(): KernelRequest {
  const rows = 3;
  const cols = 300;
  const logits = values(1000 + 24, 3, -10, 10);
  logits[777] = 50;
  logits[123] = 50; // tie: the lower id wins
  logits.fill(1e30, 1000); // past the vocabulary
  const gelu = values(513, 4, -8, 8);
  gelu.push(0, Math.SQRT2, -Math.SQRT2, 12, -12);
  return {
    norm: { x: values(rows * cols, 1, -3, 5), weight: values(cols, 2, 0.5, 2), bias: values(cols, 5, -1, 1), rows, cols },
    gelu,
    sample: { logits, vocab: 1000 },
    attention: { qkv: values(9 * 3 * 2 * 24, 6, -2, 2), tokens: 9, heads: 2, headDim: 24 },
  };
}

function expectClose(actual: number[], expected: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const tol = atol + rtol * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) throw new Error(`${what}[${i}] = ${actual[i]}, expected ${expected[i]} (tolerance ${tol})`);
  }
}

for (const where of ['runInPage', 'runInWorker'] as const) {
  test(`kernels match the CPU references (${where})`, async ({ page }) => {
    await page.goto(harness.url);
    await page.waitForFunction(() => 'kernelHarness' in window);
    const input = request();
    const output: KernelResult | KernelError = await page.evaluate(([method, req]) => window.kernelHarness[method](req), [where, input] as const);
    if ('error' in output) throw new Error(`Kernels failed in the browser: ${output.error.name}: ${output.error.message}`);
    test.info().annotations.push({ type: 'adapter', description: `${output.adapter}; argmax ${output.argmaxVariant}` });

    expect(output.inWorker).toBe(where === 'runInWorker');
    const { norm, gelu, sample } = input;
    expectClose(output.norm, layerNormReference(norm.x, norm.rows, norm.cols, { weight: norm.weight, bias: norm.bias }), 2e-5, 1e-5, 'layernorm');
    const geluExpected = geluReference(gelu);
    expectClose(output.gelu, geluExpected, 1.5e-7 * 12, 1e-6, 'gelu');
    expect(output.token).toBe(argmaxReference(sample.logits, sample.vocab));
    expect(output.token).toBe(123);

    const { tokens, heads, headDim } = input.attention;
    const d = heads * headDim;
    const part = (section: number) => Array.from({ length: tokens * d }, (_, i) => input.attention.qkv[Math.floor(i / d) * 3 * d + section * d + (i % d)]);
    expectClose(output.attention, attentionReference(part(0), part(1), part(2), tokens, tokens, heads, headDim, true), 2e-6, 1e-5, 'attention');
  });
}
