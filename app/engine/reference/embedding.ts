// CPU reference of the embedding gather.
import { halfToFloat } from '../model/half.ts';

/** Rows of the f16 table `halves` [rows, cols] for each id; ids past the table give zeros. */
export function embeddingReference(halves: Uint16Array, rows: number, cols: number, ids: ArrayLike<number>): Float32Array {
  const out = new Float32Array(ids.length * cols);
  for (let t = 0; t < ids.length; t++) {
    if (ids[t] >= rows) continue;
    for (let c = 0; c < cols; c++) out[t * cols + c] = halfToFloat(halves[ids[t] * cols + c]);
  }
  return out;
}
