/** Element types of checkpoint tensors and conversions between float formats. */

export type SourceDtype = 'f64' | 'f32' | 'f16' | 'bf16' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'u16' | 'u32' | 'bool';

export const DTYPE_BYTES: Record<SourceDtype, number> = {
  f64: 8,
  f32: 4,
  f16: 2,
  bf16: 2,
  i64: 8,
  i32: 4,
  i16: 2,
  i8: 1,
  u8: 1,
  u16: 2,
  u32: 4,
  bool: 1,
};

export function isFloatDtype(dtype: SourceDtype): dtype is 'f64' | 'f32' | 'f16' | 'bf16' {
  return dtype === 'f64' || dtype === 'f32' || dtype === 'f16' || dtype === 'bf16';
}

/** Copies `bytes` when its offset is not a multiple of `alignment`, so a typed-array view can be made on it. */
function aligned(bytes: Uint8Array, alignment: number): Uint8Array {
  return bytes.byteOffset % alignment === 0 ? bytes : bytes.slice();
}

/** Decodes an IEEE half float given as its 16 bits. */
export function f16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const f16Table = new Float32Array(65536);
for (let i = 0; i < 65536; i++) f16Table[i] = f16BitsToNumber(i);

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Encodes a number as IEEE half float bits, rounding to nearest even (as a float32 → float16 cast does). */
export function numberToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit bit, rounding half to even.
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let result = mantissa >>> shift;
    if (rest > half || (rest === half && (result & 1) === 1)) result++;
    return sign | result;
  }
  let result = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (result & 1) === 1)) result++; // A carry into the exponent is correct rounding.
  return sign | result;
}

/** Converts float values to half-float bits. */
export function toF16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = numberToF16Bits(values[i]);
  return out;
}

/** Decodes little-endian half floats. */
export function decodeF16(bytes: Uint8Array): Float32Array {
  const b = aligned(bytes, 2);
  const input = new Uint16Array(b.buffer, b.byteOffset, b.byteLength >>> 1);
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = f16Table[input[i]];
  return out;
}

/**
 * Decodes little-endian float tensor bytes. bf16, f16 and f32 become a Float32Array (exact);
 * f64 stays a Float64Array so no precision is lost.
 */
export function decodeFloats(dtype: SourceDtype, bytes: Uint8Array): Float32Array | Float64Array {
  const count = bytes.length / DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'f32': {
      const b = aligned(bytes, 4);
      return new Float32Array(b.buffer, b.byteOffset, count).slice();
    }
    case 'f64': {
      const b = aligned(bytes, 8);
      return new Float64Array(b.buffer, b.byteOffset, count).slice();
    }
    case 'bf16': {
      const b = aligned(bytes, 2);
      const input = new Uint16Array(b.buffer, b.byteOffset, count);
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = input[i] << 16;
      return out;
    }
    case 'f16':
      return decodeF16(bytes);
    default:
      throw new TypeError(`decodeFloats: ${dtype} is not a float type.`);
  }
}

/** Rounds a number to bfloat16 bits, nearest even (as `tensor.to(torch.bfloat16)` for finite values). */
export function numberToBf16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  return (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}
