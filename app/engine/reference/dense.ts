/** CPU reference of the dense kernels: y[t, n] = Σ_c x[t, c] · w[n, c] + bias[n], summed in double precision. */
export function denseReference(
  x: Float32Array,
  weights: ArrayLike<number>,
  bias: Float32Array | undefined,
  tokens: number,
  inFeatures: number,
  outFeatures: number,
): Float32Array {
  const y = new Float32Array(tokens * outFeatures);
  for (let t = 0; t < tokens; t++) {
    for (let n = 0; n < outFeatures; n++) {
      let sum = bias ? bias[n] : 0;
      for (let c = 0; c < inFeatures; c++) sum += x[t * inFeatures + c] * weights[n * inFeatures + c];
      y[t * outFeatures + n] = sum;
    }
  }
  return y;
}

/** Σ_c |x[t, c] · w[n, c]| per output, the scale of the rounding error an f32 sum can make. */
export function denseMagnitude(x: Float32Array, weights: ArrayLike<number>, tokens: number, inFeatures: number, outFeatures: number): Float32Array {
  const m = new Float32Array(tokens * outFeatures);
  for (let t = 0; t < tokens; t++) {
    for (let n = 0; n < outFeatures; n++) {
      let sum = 0;
      for (let c = 0; c < inFeatures; c++) sum += Math.abs(x[t * inFeatures + c] * weights[n * inFeatures + c]);
      m[t * outFeatures + n] = sum;
    }
  }
  return m;
}
