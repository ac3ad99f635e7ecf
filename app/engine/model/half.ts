/**
 * IEEE half-float conversion under the names the model layer uses. The one implementation (round
 * half to even; overflow gives infinity) is in the checkpoint's dtype module.
 */
export {
  f16BitsToNumber as halfToFloat,
  numberToF16Bits as floatToHalf,
  toF16 as encodeHalf,
  decodeF16 as decodeHalf,
} from '../../checkpoint/dtypes.ts';
