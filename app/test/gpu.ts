// Test helpers: one real WebGPU device per test file (Dawn under Node, SwiftShader unless
// VK_ICD_FILENAMES names another driver), and comparisons against CPU references.
import '../engine/gpu/shaders.node.ts';
import { GpuContext } from '../engine/gpu/context.ts';
import type { DeviceOptions } from '../engine/gpu/device.ts';
import { requestNodeDevice } from '../engine/gpu/node.ts';

const contexts = new Map<string, Promise<GpuContext>>();

/** Returns a shared context for `options` (a 128 MiB binding limit forces split bindings). */
export function testContext(options: DeviceOptions = {}): Promise<GpuContext> {
  const key = JSON.stringify(options);
  let ctx = contexts.get(key);
  if (!ctx) {
    ctx = requestNodeDevice(options).then((handle) => new GpuContext(handle));
    contexts.set(key, ctx);
  }
  return ctx;
}

/** Seeded pseudo-random numbers (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills a Float32Array with uniform values in [lo, hi). */
export function randomFloats(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * next();
  return out;
}

/** Largest |a - b| over elements and the index where it occurs. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; index: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let max = 0;
  let index = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= max)) {
      max = d;
      index = i;
    }
  }
  return { max, index };
}

/** Throws with the first mismatch when |actual - expected| > atol + rtol·|expected| anywhere. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 0, what = 'values'): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const tol = atol + rtol * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`${what}[${i}] = ${actual[i]}, expected ${expected[i]} (tolerance ${tol}); max |diff| ${maxAbsDiff(actual, expected).max}`);
    }
  }
}
