// CPU side of RoPE: the (cos, sin) table the kernel reads, and a reference of the rotation.

/**
 * Precision of the rotation angles, whose cos and sin are then taken in double precision.
 * 'float32' rounds θ^(-2i/D) and p·θ^(-2i/D) to f32 as OLMo's PyTorch code does (it builds the
 * table in fp32), so the table matches the trained model to an ulp; 'float64' keeps every
 * step in double.
 */
export type RopeAngles = 'float32' | 'float64';

/** Builds (cos, sin) pairs [maxPositions, headDim/2, 2] f32 for angles p · theta^(-2i/headDim). */
export function buildRopeTable(maxPositions: number, headDim: number, theta: number, angles: RopeAngles = 'float32'): Float32Array {
  const half = headDim / 2;
  const round = angles === 'float32' ? Math.fround : (v: number) => v;
  const table = new Float32Array(maxPositions * half * 2);
  for (let i = 0; i < half; i++) {
    const invFreq = round(1 / round(Math.pow(theta, round((2 * i) / headDim))));
    for (let p = 0; p < maxPositions; p++) {
      const angle = round(p * invFreq);
      table[(p * half + i) * 2] = Math.cos(angle);
      table[(p * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return table;
}

/** Applies the clamp and the rotation of shaders/rope.wgsl to qkv [T, 3·heads·headDim], returning a copy. */
export function ropeReference(qkv: Float32Array, tokens: number, heads: number, headDim: number, position: number, table: Float32Array, clip?: number): Float32Array {
  const out = Float32Array.from(qkv);
  const d = heads * headDim;
  const half = headDim / 2;
  const clamp = (v: number) => (clip === undefined ? v : Math.min(clip, Math.max(-clip, v)));
  for (let t = 0; t < tokens; t++) {
    const p = position + t;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        const c = table[(p * half + i) * 2];
        const s = table[(p * half + i) * 2 + 1];
        for (let section = 0; section < 2; section++) {
          const lo = t * 3 * d + section * d + h * headDim + i;
          const x1 = clamp(qkv[lo]);
          const x2 = clamp(qkv[lo + half]);
          out[lo] = x1 * c - x2 * s;
          out[lo + half] = x2 * c + x1 * s;
        }
        const v = t * 3 * d + 2 * d + h * headDim + i;
        out[v] = clamp(qkv[v]);
        out[v + half] = clamp(qkv[v + half]);
      }
    }
  }
  return out;
}
