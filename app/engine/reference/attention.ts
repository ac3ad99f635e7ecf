// CPU reference of scaled dot-product attention, in double precision.

/**
 * Computes attention of q [T, H·D] against k, v [keys, H·D] (row-major, heads side by side).
 * With `causal`, query t is at position `position + t` and attends to keys 0 .. position + t.
 * Returns out [T, H·D], with zeros for a query that has no keys.
 */
export function attentionReference(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, tokens: number, keys: number, heads: number, headDim: number, causal: boolean, position = 0): Float32Array {
  const d = heads * headDim;
  const out = new Float32Array(tokens * d);
  const scale = 1 / Math.sqrt(headDim);
  for (let t = 0; t < tokens; t++) {
    const limit = causal ? Math.min(keys, position + t + 1) : keys;
    for (let h = 0; h < heads; h++) {
      const scores = new Float64Array(limit);
      let max = -Infinity;
      for (let p = 0; p < limit; p++) {
        let s = 0;
        for (let j = 0; j < headDim; j++) s += q[t * d + h * headDim + j] * k[p * d + h * headDim + j];
        scores[p] = s * scale;
        max = Math.max(max, scores[p]);
      }
      let sum = 0;
      for (let p = 0; p < limit; p++) {
        scores[p] = Math.exp(scores[p] - max);
        sum += scores[p];
      }
      for (let j = 0; j < headDim; j++) {
        let acc = 0;
        for (let p = 0; p < limit; p++) acc += scores[p] * v[p * d + h * headDim + j];
        out[t * d + h * headDim + j] = limit > 0 ? acc / sum : 0;
      }
    }
  }
  return out;
}

/** Softmax of each row of x [rows, cols]. */
export function softmaxReference(x: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, x[r * cols + c]);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(x[r * cols + c] - max);
    for (let c = 0; c < cols; c++) out[r * cols + c] = Math.exp(x[r * cols + c] - max) / sum;
  }
  return out;
}
