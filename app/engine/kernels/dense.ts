import { gridFor, type Dispatch, type GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { requireCount, requireBytes } from './checks.ts';
import { checkVariant, kernelVariant, reductionDefines, type KernelVariant } from './select.ts';

export type DenseDtype = 'f16' | 'f32';

/**
 * An nn.Linear weight [out, in], row-major, split by rows so that each part fits one storage
 * binding: part p contains rows p·rowsPerPart .. min(out, (p + 1)·rowsPerPart) − 1. f16 weights are
 * raw IEEE halves (2 bytes each), f32 weights 4 bytes each.
 */
export interface DenseWeight {
  parts: GPUBuffer[];
  rowsPerPart: number;
  dtype: DenseDtype;
}

export interface DenseLinearArgs {
  /** f32 [tokens, inFeatures]. */
  input: GPUBuffer;
  weight: DenseWeight;
  /** f32 [outFeatures]. */
  bias?: GPUBuffer;
  tokens: number;
  /** A multiple of 4. */
  inFeatures: number;
  outFeatures: number;
  /** f32 [tokens, outFeatures]. */
  output: GPUBuffer;
}

export function bytesPerElement(dtype: DenseDtype): number {
  return dtype === 'f16' ? 2 : 4;
}

/** Rows of a [rows, cols] `dtype` weight that fit one binding of at most `maxBindingSize` bytes. */
export function rowsPerBinding(maxBindingSize: number, cols: number, dtype: DenseDtype): number {
  const rows = Math.floor(maxBindingSize / (cols * bytesPerElement(dtype)));
  if (rows < 1) throw new ShapeError(`One row of ${cols} ${dtype} values is larger than the ${maxBindingSize}-byte storage binding limit.`);
  return rows;
}

/**
 * Uploads a dense weight [rows, cols] (`data` contains raw halves for f16, floats for f32), split by rows
 * into parts of at most `maxBindingSize` bytes (default: the device's limit).
 */
export function uploadDenseWeight(
  ctx: GpuContext,
  label: string,
  data: Uint16Array | Float32Array,
  rows: number,
  cols: number,
  dtype: DenseDtype,
  maxBindingSize = ctx.maxBindingSize,
): DenseWeight {
  const expectedType = dtype === 'f16' ? Uint16Array : Float32Array;
  if (!(data instanceof expectedType) || data.length !== rows * cols) {
    throw new ShapeError(`Dense weight "${label}": expected a ${expectedType.name} of ${rows}×${cols} ${dtype} values; got a ${data.constructor.name} of ${data.length}.`);
  }
  const rowsPerPart = rowsPerBinding(maxBindingSize, cols, dtype);
  const parts: GPUBuffer[] = [];
  for (let first = 0; first < rows; first += rowsPerPart) {
    const last = Math.min(rows, first + rowsPerPart);
    const name = rows > rowsPerPart ? `${label} rows ${first}..${last - 1}` : label;
    parts.push(ctx.upload(name, data.subarray(first * cols, last * cols)));
  }
  return { parts, rowsPerPart, dtype };
}

function weightDefines(ctx: GpuContext, dtype: DenseDtype, variant: KernelVariant): { enable: string; defines: Record<string, string> } {
  if (dtype === 'f32') return { enable: '', defines: { WEIGHT: 'vec4<f32>', LOAD: 'e' } };
  if (variant.f16Read === 'shader-f16' && ctx.has('shader-f16')) return { enable: 'enable f16;', defines: { WEIGHT: 'vec4<f16>', LOAD: 'vec4<f32>(e)' } };
  return { enable: '', defines: { WEIGHT: 'vec2<u32>', LOAD: 'vec4<f32>(unpack2x16float(e.x), unpack2x16float(e.y))' } };
}

/**
 * y = x · Wᵀ (+ bias) with f32 accumulation: the mat-vec (shaders/dense_matvec.wgsl) for one
 * token, the register-tiled (dense_matmul.wgsl) or workgroup-tiled (dense_matmul_tiled.wgsl)
 * matmul for more, as `variant.denseMatmul` selects. Returns one dispatch a weight
 * part, all writing `output`; encode them together. f16 weights are read as f16 when
 * `variant.f16Read` is 'shader-f16' and the device has shader-f16, else unpacked from u32.
 */
export function denseLinear(ctx: GpuContext, args: DenseLinearArgs, variant: KernelVariant = kernelVariant(ctx)): Dispatch[] {
  const { input, weight, bias, tokens, inFeatures, outFeatures, output } = args;
  const kernel = 'denseLinear';
  requireCount(kernel, 'tokens', tokens);
  requireCount(kernel, 'inFeatures', inFeatures);
  requireCount(kernel, 'outFeatures', outFeatures);
  if (inFeatures % 4 !== 0) throw new ShapeError(`${kernel}: inFeatures must be a multiple of 4; got ${inFeatures}.`);
  requireCount(kernel, 'weight.rowsPerPart', weight.rowsPerPart);
  const partCount = Math.ceil(outFeatures / weight.rowsPerPart);
  if (weight.parts.length !== partCount) {
    throw new ShapeError(`${kernel}: ${outFeatures} rows at ${weight.rowsPerPart} a part need ${partCount} weight parts; got ${weight.parts.length}.`);
  }
  requireBytes(kernel, 'input', input, tokens * inFeatures * 4);
  requireBytes(kernel, 'output', output, tokens * outFeatures * 4);
  if (bias) requireBytes(kernel, 'bias', bias, outFeatures * 4);
  checkVariant(ctx, variant);

  const { enable, defines } = weightDefines(ctx, weight.dtype, variant);
  const hasBias = String(bias !== undefined);
  const elementBytes = bytesPerElement(weight.dtype);
  const dispatches: Dispatch[] = [];

  for (let p = 0; p < partCount; p++) {
    const rowOffset = p * weight.rowsPerPart;
    const rows = Math.min(weight.rowsPerPart, outFeatures - rowOffset);
    const part = weight.parts[p];
    const partBytes = rows * inFeatures * elementBytes;
    requireBytes(kernel, `weight part ${p}`, part, partBytes);
    if (partBytes > ctx.maxBindingSize) {
      throw new ShapeError(`${kernel}: weight part ${p} "${part.label}" spans ${partBytes} bytes, over the ${ctx.maxBindingSize}-byte binding limit; split the weight with rowsPerBinding().`);
    }
    const weightBinding: GPUBufferBinding = { buffer: part, size: partBytes };
    const resources = [input, weightBinding, bias ?? input, output];
    const label = `dense ${weight.dtype} ${tokens}×${inFeatures}→${outFeatures}${partCount > 1 ? ` part ${p}` : ''}`;

    if (tokens === 1) {
      const pipeline = ctx.pipeline('dense_matvec', {
        defines: {
          ...defines,
          WG: String(variant.matvecWorkgroupSize),
          ROWS: String(variant.matvecRows),
          HAS_BIAS: hasBias,
          ...reductionDefines(variant.reduction, 'part = subgroupAdd(part);', enable),
        },
      });
      const workgroups = gridFor(rows, variant.matvecRows);
      const params = ctx.uniform(`${kernel} params`, [rows, inFeatures / 4, rowOffset, workgroups[0]], ['u32', 'u32', 'u32', 'u32']);
      dispatches.push({ label, pipeline, bindGroups: [ctx.bindGroup(label, pipeline, [...resources, params])], workgroups });
      continue;
    }

    let pipeline: GPUComputePipeline;
    let workgroups: [number, number, number];
    if (variant.denseMatmul === 'workgroup-tiles') {
      pipeline = ctx.pipeline('dense_matmul_tiled', { defines: { ...defines, ENABLE: enable, HAS_BIAS: hasBias } });
      workgroups = [Math.ceil(rows / 64), Math.ceil(tokens / 64), 1];
    } else {
      const tm = variant.matmulTokens;
      const tn = variant.matmulRows;
      pipeline = ctx.pipeline('dense_matmul', { defines: { ...defines, ENABLE: enable, TM: String(tm), TN: String(tn), HAS_BIAS: hasBias } });
      workgroups = [Math.ceil(rows / (8 * tn)), Math.ceil(tokens / (8 * tm)), 1];
    }
    if (workgroups[0] > 65535 || workgroups[1] > 65535) {
      throw new ShapeError(`${kernel}: ${tokens} tokens × ${rows} rows need more than 65535 workgroups along one axis; split the call.`);
    }
    const params = ctx.uniform(`${kernel} params`, [tokens, rows, inFeatures / 4, rowOffset, outFeatures], ['u32', 'u32', 'u32', 'u32', 'u32']);
    dispatches.push({ label, pipeline, bindGroups: [ctx.bindGroup(label, pipeline, [...resources, params])], workgroups });
  }
  return dispatches;
}
