/**
 * CPU references of the BitLinear158 kernels. They follow the GPU's f32 steps, each rounded with
 * Math.fround, so the integer outputs match. The exception is a value that the GPU's sqrt or
 * division (WGSL allows them a few ulps of error) moves across a rounding boundary.
 */
import { roundHalfEven } from '../ternary/pack.ts';

const f = Math.fround;

/** Quantizes rows [rows, cols] as shaders/bitlinear_quantize.wgsl does; returns xq and sx. */
export function quantizeReference(x: Float32Array, rows: number, cols: number): { q: Int8Array; scales: Float32Array } {
  const q = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    let sumSq = 0;
    let maxAbs = 0;
    for (const v of row) {
      sumSq += f(v * v);
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    const rms = f(Math.sqrt(f(f(f(sumSq) / cols) + f(1e-5))));
    const sx = f(127 / Math.max(f(maxAbs / rms), f(1e-5)));
    for (let c = 0; c < cols; c++) {
      const xn = f(row[c] / rms);
      q[r * cols + c] = Math.max(-128, Math.min(127, roundHalfEven(f(xn * sx))));
    }
    scales[r] = sx;
  }
  return { q, scales };
}

/** Packs int8 rows four a u32, column 4i + l in byte l of word i (the `pack4xI8` order). */
export function packInt8(q: Int8Array): Uint32Array {
  return new Uint32Array(new Uint8Array(q.buffer, q.byteOffset, q.byteLength).slice().buffer);
}

/** Exact integer products acc[t, n] = Σ_c q[t, c] · w[n, c] of int8 activations and ternary weights. */
export function ternaryAccumulate(q: Int8Array, weights: Int8Array, tokens: number, inFeatures: number, outFeatures: number): Int32Array {
  const acc = new Int32Array(tokens * outFeatures);
  for (let t = 0; t < tokens; t++) {
    for (let n = 0; n < outFeatures; n++) {
      let sum = 0;
      for (let c = 0; c < inFeatures; c++) sum += q[t * inFeatures + c] * weights[n * inFeatures + c];
      acc[t * outFeatures + n] = sum;
    }
  }
  return acc;
}

/** y[t, n] = acc[t, n] / (sx[t] · sw) in f32, as the ternary kernels rescale. */
export function ternaryRescale(acc: Int32Array, scales: Float32Array, sw: number, tokens: number, outFeatures: number): Float32Array {
  const y = new Float32Array(acc.length);
  for (let t = 0; t < tokens; t++) {
    const scale = f(scales[t] * f(sw));
    for (let n = 0; n < outFeatures; n++) y[t * outFeatures + n] = f(acc[t * outFeatures + n] / scale);
  }
  return y;
}
