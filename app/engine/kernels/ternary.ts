import { gridFor, type Dispatch, type GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { CODES_PER_WORD } from '../ternary/pack.ts';
import { requireCount, requireBytes } from './checks.ts';
import { checkVariant, kernelVariant, reductionDefines, type KernelVariant } from './select.ts';

export interface TernaryLinearArgs {
  /** int8 activations [tokens, inFeatures], four a u32, as `quantizeActivations` writes them. */
  q: GPUBuffer;
  /** f32 [tokens]: sx of each token. */
  scales: GPUBuffer;
  /** Ternary codes [outFeatures, inFeatures] in the `TERNARY_PACKING` layout of `app/engine/ternary/pack.ts`. */
  weight: GPUBuffer;
  /** The tensor's weight scale: y = acc / (sx · sw). */
  sw: number;
  tokens: number;
  /** A multiple of 16. */
  inFeatures: number;
  outFeatures: number;
  /** f32 [tokens, outFeatures]. */
  output: GPUBuffer;
  /** Adds into `output` (y += ...) instead of overwriting it, to fuse a residual add. */
  accumulate?: boolean;
}

/**
 * BitLinear158's product y = (xq · Wqᵀ) / (sx · sw) with exact i32 accumulation: the mat-vec
 * (shaders/ternary_matvec.wgsl) for one token, and for more the register-tiled
 * (ternary_matmul.wgsl) or workgroup-tiled (ternary_matmul_tiled.wgsl) matmul, as
 * `variant.ternaryMatmul` selects. Returns one dispatch, built once.
 */
export function ternaryLinear(ctx: GpuContext, args: TernaryLinearArgs, variant: KernelVariant = kernelVariant(ctx)): Dispatch {
  const { q, scales, weight, sw, tokens, inFeatures, outFeatures, output } = args;
  const kernel = 'ternaryLinear';
  requireCount(kernel, 'tokens', tokens);
  requireCount(kernel, 'inFeatures', inFeatures);
  requireCount(kernel, 'outFeatures', outFeatures);
  if (inFeatures % CODES_PER_WORD !== 0) throw new ShapeError(`${kernel}: inFeatures must be a multiple of ${CODES_PER_WORD} (the ternary packing); got ${inFeatures}.`);
  if (!Number.isFinite(sw) || sw <= 0) throw new ShapeError(`${kernel}: sw must be a positive number; got ${sw}.`);
  requireBytes(kernel, 'q', q, tokens * inFeatures);
  requireBytes(kernel, 'scales', scales, tokens * 4);
  requireBytes(kernel, 'weight', weight, (outFeatures * inFeatures) / 4);
  requireBytes(kernel, 'output', output, tokens * outFeatures * 4);
  checkVariant(ctx, variant);

  const words = inFeatures / CODES_PER_WORD;
  const accumulate = String(args.accumulate ?? false);
  const label = `ternary ${tokens}×${inFeatures}→${outFeatures}${args.accumulate ? ' +=' : ''}`;

  if (tokens === 1) {
    const rows = variant.matvecRows;
    const pipeline = ctx.pipeline('ternary_matvec', {
      defines: {
        WG: String(variant.matvecWorkgroupSize),
        ROWS: String(rows),
        ACCUMULATE: accumulate,
        ...reductionDefines(variant.reduction, 'part = subgroupAdd(part);'),
      },
    });
    const workgroups = gridFor(outFeatures, rows);
    const params = ctx.uniform(`${kernel} params`, [outFeatures, words, workgroups[0], sw], ['u32', 'u32', 'u32', 'f32']);
    return { label, pipeline, bindGroups: [ctx.bindGroup(kernel, pipeline, [q, scales, weight, output, params])], workgroups };
  }

  let pipeline: GPUComputePipeline;
  let workgroups: [number, number, number];
  if (variant.ternaryMatmul === 'workgroup-tiles') {
    pipeline = ctx.pipeline('ternary_matmul_tiled', { defines: { ACCUMULATE: accumulate } });
    workgroups = [Math.ceil(outFeatures / 64), Math.ceil(tokens / 64), 1];
  } else {
    const tm = variant.matmulTokens;
    const tn = variant.matmulRows;
    pipeline = ctx.pipeline('ternary_matmul', { defines: { TM: String(tm), TN: String(tn), ACCUMULATE: accumulate } });
    workgroups = [Math.ceil(outFeatures / (8 * tn)), Math.ceil(tokens / (8 * tm)), 1];
  }
  if (workgroups[0] > 65535 || workgroups[1] > 65535) {
    throw new ShapeError(`${kernel}: ${tokens} tokens × ${outFeatures} outputs need more than 65535 workgroups along one axis; split the call.`);
  }
  const params = ctx.uniform(`${kernel} params`, [tokens, outFeatures, words, sw], ['u32', 'u32', 'u32', 'f32']);
  return { label, pipeline, bindGroups: [ctx.bindGroup(kernel, pipeline, [q, scales, weight, output, params])], workgroups };
}
