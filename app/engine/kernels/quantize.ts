import { gridFor, type Dispatch, type GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { requireCount, requireBytes } from './checks.ts';
import { checkVariant, kernelVariant, reductionDefines, type KernelVariant } from './select.ts';

export interface QuantizeArgs {
  /** f32 [rows, cols]. */
  input: GPUBuffer;
  rows: number;
  /** Row length, a multiple of 4 (the ternary product needs a multiple of 16). */
  cols: number;
  /** Output: int8 [rows, cols], four a u32 (column 4i + l in byte l of word i): rows · cols bytes. */
  q: GPUBuffer;
  /** Output: f32 [rows], the scale sx of each row. */
  scales: GPUBuffer;
}

/**
 * Quantizes activation rows as BitLinear158 does: an RMSNorm with no weight, then absmax to int8
 * (see shaders/bitlinear_quantize.wgsl). Returns one dispatch, built once.
 */
export function quantizeActivations(ctx: GpuContext, args: QuantizeArgs, variant: KernelVariant = kernelVariant(ctx)): Dispatch {
  const { input, rows, cols, q, scales } = args;
  const kernel = 'quantizeActivations';
  requireCount(kernel, 'rows', rows);
  requireCount(kernel, 'cols', cols);
  if (cols % 4 !== 0) throw new ShapeError(`${kernel}: cols must be a multiple of 4; got ${cols}.`);
  requireBytes(kernel, 'input', input, rows * cols * 4);
  requireBytes(kernel, 'q', q, rows * cols);
  requireBytes(kernel, 'scales', scales, rows * 4);
  checkVariant(ctx, variant);

  const workgroupSize = variant.quantizeWorkgroupSize;
  const pipeline = ctx.pipeline('bitlinear_quantize', {
    defines: {
      WG: String(workgroupSize),
      ...reductionDefines(variant.reduction, 'sumSq = subgroupAdd(sumSq);\n  maxAbs = subgroupMax(maxAbs);'),
    },
  });
  const workgroups = gridFor(rows, 1);
  const params = ctx.uniform(`${kernel} params`, [cols / 4, rows, workgroups[0]], ['u32', 'u32', 'u32']);
  return {
    label: `quantize ${rows}×${cols}`,
    pipeline,
    bindGroups: [ctx.bindGroup(kernel, pipeline, [input, q, scales, params])],
    workgroups,
  };
}
