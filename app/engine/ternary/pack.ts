/**
 * Ternary weight packing shared by the converter and the kernels.
 *
 * Layout `ternary2-dot4`: the weight matrix [rows, cols] (cols a multiple of 16) is stored row by
 * row, 16 two-bit codes per little-endian u32, code = weight + 1 (0 → -1, 1 → 0, 2 → +1; 3 unused).
 * Word r·cols/16 + g holds columns 16g..16g+15, and column 16g + 4j + l sits at bits 8l + 2j.
 * So `(word >> 2j) & 0x03030303` puts the codes of columns 16g+4j..16g+4j+3 in bytes 0..3, the
 * order in which `pack4xI8` stores four int8 activations, and one `dot4I8Packed` multiplies
 * four weights by four activations. Rows are contiguous so a mat-vec workgroup streams whole rows.
 */
export const TERNARY_PACKING = 'ternary2-dot4';
export const CODES_PER_WORD = 16;

/** Bit position of column `c` of a row inside its word. */
function codeShift(c: number): number {
  const i = c & 15;
  return 8 * (i & 3) + 2 * (i >> 2);
}

/** Packs weights in {-1, 0, 1} (row-major [rows, cols]) into the `ternary2-dot4` layout. */
export function packTernary(weights: Int8Array, rows: number, cols: number): Uint32Array {
  if (cols % CODES_PER_WORD !== 0) throw new RangeError(`Ternary packing needs cols divisible by ${CODES_PER_WORD}; got ${cols}.`);
  if (weights.length !== rows * cols) throw new RangeError(`Ternary packing: ${weights.length} weights for a ${rows}×${cols} matrix.`);
  const words = new Uint32Array((rows * cols) / CODES_PER_WORD);
  for (let i = 0; i < words.length; i++) {
    let word = 0;
    for (let j = 0; j < CODES_PER_WORD; j++) {
      const w = weights[i * CODES_PER_WORD + j];
      if (w < -1 || w > 1) throw new RangeError(`Ternary packing: weight ${w} at index ${i * CODES_PER_WORD + j} is not -1, 0 or 1.`);
      word |= (w + 1) << codeShift(j);
    }
    words[i] = word >>> 0;
  }
  return words;
}

/** Inverse of `packTernary`. */
export function unpackTernary(words: Uint32Array, rows: number, cols: number): Int8Array {
  const out = new Int8Array(rows * cols);
  for (let i = 0; i < out.length; i++) {
    out[i] = ((words[i >>> 4] >>> codeShift(i)) & 3) - 1;
  }
  return out;
}

/** Rounds half to even, as `torch.round` and WGSL `round` do (JavaScript's `Math.round` rounds half up). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Ternarizes a latent weight tensor as BitLinear158 does: sw = 1 / max(mean|W|, 1e-5) over the whole
 * tensor, computed in double precision, then Wq = clamp(round(W · sw), -1, 1).
 * Returns the codes and `sw` (the kernel rescales the integer product by 1 / (sx · sw)).
 */
export function ternarize(weights: ArrayLike<number>): { codes: Int8Array; sw: number } {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += Math.abs(weights[i]);
  const sw = 1 / Math.max(sum / weights.length, 1e-5);
  const codes = new Int8Array(weights.length);
  for (let i = 0; i < weights.length; i++) codes[i] = Math.max(-1, Math.min(1, roundHalfEven(weights[i] * sw)));
  return { codes, sw };
}
