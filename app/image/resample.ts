/**
 * Bicubic resampling that reproduces Pillow 9's `Image.resize(size, Image.BICUBIC)` on 8-bit RGB
 * to the last bit (the C code in Pillow's `libImaging/Resample.c`):
 *
 * - kernel: Keys' cubic with a = -0.5 and support 2, widened by the scale factor when shrinking
 *   (antialiasing), evaluated in double precision and normalised so each output's weights sum
 *   to 1;
 * - weights converted to fixed point with 22 fractional bits, rounded half away from zero;
 * - two passes, horizontal then vertical, each rounding its result to 8 bits (add half, shift,
 *   clamp to 0..255);
 * - a pass whose size does not change is skipped.
 *
 * The source is a virtual canvas (the image pasted on a solid background), so padding a large
 * photo to a square never allocates the square. Only the requested crop window of the output is
 * computed. Because every output pixel depends on its own coordinates alone, this equals
 * resizing the whole canvas and cropping afterwards.
 */

/** 8-bit RGB pixels, row-major, 3 bytes a pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** An image pasted at (`left`, `top`) on a `width` × `height` canvas filled with `background`. */
export interface Canvas {
  image: RgbImage;
  width: number;
  height: number;
  left: number;
  top: number;
  background: readonly [number, number, number];
}

/** Output pixels to compute: the window [left, left + width) × [top, top + height) of the resized canvas. */
export interface CropWindow {
  left: number;
  top: number;
  width: number;
  height: number;
}

const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
const BICUBIC_SUPPORT = 2;
const BICUBIC_A = -0.5;

function bicubic(x: number): number {
  if (x < 0) x = -x;
  if (x < 1) return ((BICUBIC_A + 2) * x - (BICUBIC_A + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * BICUBIC_A;
  return 0;
}

/** Fixed-point weights of outputs [first, first + count) when resampling `inSize` samples to `outSize`. */
interface Weights {
  /** First input sample of each output. */
  start: Int32Array;
  /** Number of input samples of each output. */
  length: Int32Array;
  /** `kernelSize` weights for each output, the unused tail zero. */
  weights: Int32Array;
  kernelSize: number;
}

function computeWeights(inSize: number, outSize: number, first: number, count: number): Weights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = BICUBIC_SUPPORT * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(count);
  const length = new Int32Array(count);
  const weights = new Int32Array(count * kernelSize);
  const inverseScale = 1 / filterScale;
  const real = new Float64Array(kernelSize);

  for (let i = 0; i < count; i++) {
    const center = (first + i + 0.5) * scale;
    // Pillow truncates toward zero with a C cast, then clamps to the image.
    const min = Math.max(Math.trunc(center - support + 0.5), 0);
    const max = Math.min(Math.trunc(center + support + 0.5), inSize);
    const n = max - min;
    let total = 0;
    for (let x = 0; x < n; x++) {
      const w = bicubic((x + min - center + 0.5) * inverseScale);
      real[x] = w;
      total += w;
    }
    for (let x = 0; x < n; x++) {
      const w = total !== 0 ? real[x]! / total : real[x]!;
      const scaled = w * (1 << PRECISION_BITS);
      weights[i * kernelSize + x] = w < 0 ? Math.trunc(scaled - 0.5) : Math.trunc(scaled + 0.5);
    }
    start[i] = min;
    length[i] = n;
  }
  return { start, length, weights, kernelSize };
}

function clip8(sum: number): number {
  if (sum >= 1 << (PRECISION_BITS + 8)) return 255;
  if (sum <= 0) return 0;
  return sum >> PRECISION_BITS;
}

/** Writes row `y` of the canvas (`canvas.width` × 3 bytes) into `row`. */
function fillCanvasRow(canvas: Canvas, y: number, row: Uint8Array): void {
  const { image, background } = canvas;
  const inside = y >= canvas.top && y < canvas.top + image.height;
  for (let x = 0; x < canvas.width; x++) {
    row[x * 3] = background[0];
    row[x * 3 + 1] = background[1];
    row[x * 3 + 2] = background[2];
  }
  if (inside) {
    const source = (y - canvas.top) * image.width * 3;
    row.set(image.data.subarray(source, source + image.width * 3), canvas.left * 3);
  }
}

function resampleRow(row: Uint8Array, weights: Weights, out: Uint8Array, outOffset: number): void {
  const { start, length, kernelSize } = weights;
  for (let i = 0; i < start.length; i++) {
    const k = i * kernelSize;
    const begin = start[i]! * 3;
    let r = HALF;
    let g = HALF;
    let b = HALF;
    for (let x = 0; x < length[i]!; x++) {
      const w = weights.weights[k + x]!;
      const p = begin + x * 3;
      r += row[p]! * w;
      g += row[p + 1]! * w;
      b += row[p + 2]! * w;
    }
    const o = outOffset + i * 3;
    out[o] = clip8(r);
    out[o + 1] = clip8(g);
    out[o + 2] = clip8(b);
  }
}

/**
 * Resizes `canvas` to `outWidth` × `outHeight` with Pillow's bicubic filter and returns the
 * pixels inside `crop`.
 */
export function resizeBicubic(canvas: Canvas, outWidth: number, outHeight: number, crop: CropWindow): RgbImage {
  const { image } = canvas;
  if (
    canvas.left < 0 ||
    canvas.top < 0 ||
    canvas.left + image.width > canvas.width ||
    canvas.top + image.height > canvas.height
  ) {
    throw new RangeError(
      `Image ${image.width}×${image.height} at (${canvas.left}, ${canvas.top}) does not fit its ` +
        `${canvas.width}×${canvas.height} canvas.`,
    );
  }
  if (crop.left < 0 || crop.top < 0 || crop.left + crop.width > outWidth || crop.top + crop.height > outHeight) {
    throw new RangeError(
      `Crop ${crop.width}×${crop.height} at (${crop.left}, ${crop.top}) is outside the ${outWidth}×${outHeight} output.`,
    );
  }

  // Horizontal pass: canvas rows [firstRow, lastRow) → `crop.width` columns each.
  const needHorizontal = outWidth !== canvas.width;
  const needVertical = outHeight !== canvas.height;
  const horizontal = needHorizontal ? computeWeights(canvas.width, outWidth, crop.left, crop.width) : null;
  const vertical = needVertical ? computeWeights(canvas.height, outHeight, crop.top, crop.height) : null;
  const firstRow = vertical ? vertical.start[0]! : crop.top;
  const lastRow = vertical
    ? vertical.start[crop.height - 1]! + vertical.length[crop.height - 1]!
    : crop.top + crop.height;

  const rowStride = crop.width * 3;
  const temp = new Uint8Array((lastRow - firstRow) * rowStride);
  const canvasRow = new Uint8Array(canvas.width * 3);
  // Rows above and below the image are all background, so their result is computed once.
  let backgroundOffset = -1;
  for (let y = firstRow; y < lastRow; y++) {
    const offset = (y - firstRow) * rowStride;
    const isBackground = y < canvas.top || y >= canvas.top + image.height;
    if (isBackground && backgroundOffset >= 0) {
      temp.copyWithin(offset, backgroundOffset, backgroundOffset + rowStride);
      continue;
    }
    fillCanvasRow(canvas, y, canvasRow);
    if (horizontal) resampleRow(canvasRow, horizontal, temp, offset);
    else temp.set(canvasRow.subarray(crop.left * 3, crop.left * 3 + rowStride), offset);
    if (isBackground) backgroundOffset = offset;
  }

  if (!vertical) return { width: crop.width, height: crop.height, data: temp };

  // Vertical pass over the temporary rows, whose row 0 is canvas row `firstRow`.
  const out = new Uint8Array(crop.height * rowStride);
  for (let i = 0; i < crop.height; i++) {
    const k = i * vertical.kernelSize;
    const begin = (vertical.start[i]! - firstRow) * rowStride;
    const n = vertical.length[i]!;
    for (let x = 0; x < rowStride; x++) {
      let sum = HALF;
      for (let y = 0; y < n; y++) sum += temp[begin + y * rowStride + x]! * vertical.weights[k + y]!;
      out[i * rowStride + x] = clip8(sum);
    }
  }
  return { width: crop.width, height: crop.height, data: out };
}
