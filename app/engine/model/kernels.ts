/**
 * Wrappers of the model's own kernels (`shaders/model_*.wgsl`): attention with one thread a query
 * for prefill and the vision tower, and the int8 unpacking and rescale of the dense benchmark mode.
 * Each checks its shapes and returns a `Dispatch` built once. Attention reads the position and the
 * KV length from the step-parameter buffer of `app/engine/kernels/step.ts`.
 */
import { gridFor, type Dispatch, type GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import type { AttentionOperand } from '../kernels/attention.ts';
import { requireCount, requireSize } from '../kernels/buffers.ts';
import { STEP_PARAMS_BYTES } from '../kernels/step.ts';

export interface RowAttentionArgs {
  /** Strided views of q [queries], k and v [keys] (f32 elements; see `AttentionOperand`). */
  q: AttentionOperand;
  k: AttentionOperand;
  v: AttentionOperand;
  /** f32 [queries, heads·headDim]. */
  output: GPUBuffer;
  /** position (causal) or kvLength (full) of the step buffer decides how many keys each query reads. */
  step: GPUBuffer;
  queries: number;
  heads: number;
  headDim: number;
  /** Key rows k and v hold, for the size checks. */
  maxKeys: number;
  causal: boolean;
}

/**
 * Softmax attention with one thread a (query, head) and a running softmax
 * (shaders/model_attention_rows.wgsl), for prefill and the vision tower. Decoding, with one query,
 * uses `decodeAttentionKernels` of app/engine/kernels/attention.ts instead.
 */
export function rowAttention(ctx: GpuContext, args: RowAttentionArgs): Dispatch {
  const { q, k, v, output, step, queries, heads, headDim, maxKeys, causal } = args;
  const kernel = 'rowAttention';
  requireCount(kernel, 'queries', queries);
  requireCount(kernel, 'heads', heads);
  requireCount(kernel, 'maxKeys', maxKeys);
  if (headDim > 256) throw new ShapeError(`${kernel}: headDim ${headDim} is over the kernel's 256.`);
  const last = (o: AttentionOperand, rows: number) => (o.offset + (heads - 1) * o.headStride + (rows - 1) * o.rowStride + headDim) * 4;
  requireSize(kernel, 'q', q.buffer, last(q, queries));
  requireSize(kernel, 'k', k.buffer, last(k, maxKeys));
  requireSize(kernel, 'v', v.buffer, last(v, maxKeys));
  requireSize(kernel, 'output', output, queries * heads * headDim * 4);
  requireSize(kernel, 'step', step, STEP_PARAMS_BYTES);

  const workgroups = gridFor(queries * heads, 64);
  const pipeline = ctx.pipeline('model_attention_rows', { constants: { CAUSAL: causal ? 1 : 0 }, defines: { HD: String(headDim) } });
  const params = ctx.uniform(
    `${kernel} params`,
    [queries, heads, 1 / Math.sqrt(headDim), workgroups[0], q.offset, q.rowStride, q.headStride, k.offset, k.rowStride, k.headStride, v.offset, v.rowStride, v.headStride, heads * headDim],
    ['u32', 'u32', 'f32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32'],
  );
  return {
    label: `${causal ? 'causal ' : ''}attention ${queries}×${heads}×${headDim}`,
    pipeline,
    bindGroups: [ctx.bindGroup(kernel, pipeline, [q.buffer, k.buffer, v.buffer, output, step, params])],
    workgroups,
  };
}

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
  requireSize(kernel, 'q', q, tokens * cols);
  requireSize(kernel, 'output', output, tokens * cols * 4);
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
  requireSize(kernel, 'acc', acc, n * 4);
  requireSize(kernel, 'scales', scales, tokens * 4);
  requireSize(kernel, 'output', output, n * 4);
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
