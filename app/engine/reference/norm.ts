// CPU references for the row norms, in double precision.

export interface NormReferenceOptions {
  kind?: 'layer' | 'rms';
  weight?: ArrayLike<number>;
  bias?: ArrayLike<number>;
  eps?: number;
}

/** LayerNorm (or RMSNorm) of each row of x [rows, cols], as PyTorch's `layer_norm` and OLMo's RMSLayerNorm compute it. */
export function layerNormReference(x: ArrayLike<number>, rows: number, cols: number, options: NormReferenceOptions = {}): Float32Array {
  const eps = options.eps ?? 1e-5;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let mean = 0;
    if (options.kind !== 'rms') {
      for (let c = 0; c < cols; c++) mean += x[base + c];
      mean /= cols;
    }
    let squares = 0;
    for (let c = 0; c < cols; c++) squares += (x[base + c] - mean) ** 2;
    const inv = 1 / Math.sqrt(squares / cols + eps);
    for (let c = 0; c < cols; c++) {
      let v = (x[base + c] - mean) * inv;
      if (options.weight) v *= options.weight[c];
      if (options.bias) v += options.bias[c];
      out[base + c] = v;
    }
  }
  return out;
}
