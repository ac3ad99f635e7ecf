/**
 * Wrappers of the model's own kernels (`shaders/model_*.wgsl`): the int8 unpacking and the rescale
 * of the dense benchmark mode, where ternary layers are held as dense f16 matrices. Each checks its
 * shapes and returns a `Dispatch` built once.
 */
import { gridFor, type Dispatch, type GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { requireCount, requireBytes } from '../kernels/checks.ts';

export interface UnpackInt8Args {
  /** int8 [tokens, cols], four a u32, as `quantizeActivations` writes them. */
  q: GPUBuffer;
  tokens: number;
  /** A multiple of 4. */
  cols: number;
  /** f32 [tokens, cols]. */
  output: GPUBuffer;
}

/** x = f32(xq): the integer input a dense copy of a ternary layer multiplies (shaders/model_unpack_int8.wgsl). */
export function unpackInt8(ctx: GpuContext, args: UnpackInt8Args): Dispatch {
  const { q, tokens, cols, output } = args;
  const kernel = 'unpackInt8';
  requireCount(kernel, 'tokens', tokens);
  if (cols % 4 !== 0) throw new ShapeError(`${kernel}: cols must be a multiple of 4; got ${cols}.`);
  requireBytes(kernel, 'q', q, tokens * cols);
  requireBytes(kernel, 'output', output, tokens * cols * 4);
  const pipeline = ctx.pipeline('model_unpack_int8');
  const params = ctx.uniform(`${kernel} params`, [tokens, cols / 4], ['u32', 'u32']);
  return {
    label: `unpack int8 ${tokens}×${cols}`,
    pipeline,
    bindGroups: [ctx.bindGroup(kernel, pipeline, [q, output, params])],
    workgroups: [Math.ceil(cols / 4 / 64), tokens, 1],
  };
}

export interface RescaleArgs {
  /** f32 [tokens, cols]: the integer products. */
  acc: GPUBuffer;
  /** f32 [tokens]: sx. */
  scales: GPUBuffer;
  sw: number;
  tokens: number;
  cols: number;
  /** f32 [tokens, cols]. */
  output: GPUBuffer;
  /** Adds into `output` instead of overwriting it. */
  accumulate?: boolean;
}

/** y (+)= acc / (sx · sw): BitLinear158's rescale after a dense product (shaders/model_rescale.wgsl). */
export function rescale(ctx: GpuContext, args: RescaleArgs): Dispatch {
  const { acc, scales, sw, tokens, cols, output } = args;
  const kernel = 'rescale';
  requireCount(kernel, 'tokens', tokens);
  requireCount(kernel, 'cols', cols);
  const n = tokens * cols;
  requireBytes(kernel, 'acc', acc, n * 4);
  requireBytes(kernel, 'scales', scales, tokens * 4);
  requireBytes(kernel, 'output', output, n * 4);
  const workgroups = gridFor(n, 256);
  const pipeline = ctx.pipeline('model_rescale', { constants: { ACCUMULATE: args.accumulate ? 1 : 0 } });
  const params = ctx.uniform(`${kernel} params`, [n, cols, sw, workgroups[0]], ['u32', 'u32', 'f32', 'u32']);
  return {
    label: `rescale ${tokens}×${cols}${args.accumulate ? ' +=' : ''}`,
    pipeline,
    bindGroups: [ctx.bindGroup(kernel, pipeline, [acc, scales, output, params])],
    workgroups,
  };
}
