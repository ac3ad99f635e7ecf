/**
 * Wrappers of the model's own kernels (`shaders/model_*.wgsl`): embedding gather, RoPE with the
 * KV-cache write, attention, and the dense-mode int8 unpacking and rescale.
 * Each checks its shapes and returns a `Dispatch` built once; values that change per step (the
 * position and the KV length) come from the step-parameter buffer of
 * `app/engine/kernels/step.ts`.
 */
import { gridFor, type Dispatch, type GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { requireCount, requireSize } from '../kernels/buffers.ts';

/** Marks an image row in the ids buffer of `gatherEmbedding`. */
export const NO_TOKEN = 0xffffffff;

export interface GatherArgs {
  /** u32 [tokens]; NO_TOKEN for rows filled from elsewhere. */
  ids: GPUBuffer;
  /** Raw f16 rows [rows, width] of the embedding, rows firstRow.. of the whole table. */
  table: GPUBuffer;
  firstRow: number;
  rows: number;
  tokens: number;
  /** Even. */
  width: number;
  /** f32 [tokens, width]. */
  output: GPUBuffer;
}

/** Copies the embedding rows of `ids` that fall in this chunk into `output` as f32. */
export function gatherEmbedding(ctx: GpuContext, args: GatherArgs): Dispatch {
  const { ids, table, firstRow, rows, tokens, width, output } = args;
  const kernel = 'gatherEmbedding';
  requireCount(kernel, 'tokens', tokens);
  requireCount(kernel, 'rows', rows);
  if (width % 2 !== 0) throw new ShapeError(`${kernel}: width must be even; got ${width}.`);
  requireSize(kernel, 'ids', ids, tokens * 4);
  requireSize(kernel, 'table', table, rows * width * 2);
  requireSize(kernel, 'output', output, tokens * width * 4);
  const pipeline = ctx.pipeline('model_gather');
  const params = ctx.uniform(`${kernel} params`, [tokens, width / 2, firstRow, rows], ['u32', 'u32', 'u32', 'u32']);
  return {
    label: `gather ${tokens} rows from ${firstRow}..${firstRow + rows - 1}`,
    pipeline,
    bindGroups: [ctx.bindGroup(kernel, pipeline, [ids, table, output, params])],
    workgroups: [Math.ceil(width / 2 / 64), tokens, 1],
  };
}

export interface RopeKvArgs {
  /** f32 [tokens, 3·width]: att_proj's output, q, k, v in that order. */
  qkv: GPUBuffer;
  /** f32 [tokens, width]: rotated q. */
  q: GPUBuffer;
  /** f32 [positions, width] each: this layer's cache. */
  kCache: GPUBuffer;
  vCache: GPUBuffer;
  /** f32 [positions, headDim / 2] each, from `ropeTable` (double precision on the CPU). */
  cos: GPUBuffer;
  sin: GPUBuffer;
  /** Step parameters: the tokens sit at position.. */
  step: GPUBuffer;
  tokens: number;
  width: number;
  headDim: number;
  positions: number;
  /** clip_qkv, or null. */
  clip: number | null;
}

/** Clamps (clip_qkv), rotates q and k, and writes k and v into the cache (shaders/model_rope_kv.wgsl). */
export function ropeKv(ctx: GpuContext, args: RopeKvArgs): Dispatch {
  const { qkv, q, kCache, vCache, cos, sin, step, tokens, width, headDim, positions, clip } = args;
  const kernel = 'ropeKv';
  requireCount(kernel, 'tokens', tokens);
  if (headDim % 2 !== 0 || width % headDim !== 0) throw new ShapeError(`${kernel}: headDim ${headDim} must be even and divide width ${width}.`);
  requireSize(kernel, 'qkv', qkv, tokens * 3 * width * 4);
  requireSize(kernel, 'q', q, tokens * width * 4);
  requireSize(kernel, 'kCache', kCache, positions * width * 4);
  requireSize(kernel, 'vCache', vCache, positions * width * 4);
  requireSize(kernel, 'cos', cos, (positions * headDim) / 2 * 4);
  requireSize(kernel, 'sin', sin, (positions * headDim) / 2 * 4);
  const pipeline = ctx.pipeline('model_rope_kv', { constants: { CLIP: clip === null ? 0 : 1 } });
  const params = ctx.uniform(`${kernel} params`, [tokens, width, headDim, clip ?? 0], ['u32', 'u32', 'u32', 'f32']);
  return {
    label: `rope + kv write ${tokens}×${width}`,
    pipeline,
    bindGroups: [ctx.bindGroup(kernel, pipeline, [qkv, q, kCache, vCache, cos, sin, step, params])],
    workgroups: [Math.ceil(width / 2 / 64), tokens, 1],
  };
}

export interface AttentionArgs {
  /** f32 [queries, width]. */
  q: GPUBuffer;
  /** f32 [keys, width] each. */
  k: GPUBuffer;
  v: GPUBuffer;
  /** f32 [queries, width]. */
  output: GPUBuffer;
  /** position (causal) or kvLength (full) of the step buffer decide the keys each query sees. */
  step: GPUBuffer;
  queries: number;
  heads: number;
  headDim: number;
  /** Keys a query can see at most; bounds the workgroup memory of the scores. */
  maxKeys: number;
  causal: boolean;
}

/**
 * Softmax attention: one workgroup a head for a single query (decoding; shaders/model_attention.wgsl),
 * one thread a (query, head) for more (prefill, the vision tower; model_attention_rows.wgsl).
 */
export function attention(ctx: GpuContext, args: AttentionArgs): Dispatch {
  const { q, k, v, output, step, queries, heads, headDim, maxKeys, causal } = args;
  const kernel = 'attention';
  requireCount(kernel, 'queries', queries);
  requireCount(kernel, 'heads', heads);
  requireCount(kernel, 'maxKeys', maxKeys);
  if (headDim > 256) throw new ShapeError(`${kernel}: headDim ${headDim} is over the kernel's 256.`);
  const keySlots = Math.ceil(maxKeys / 64) * 64;
  const workgroupBytes = keySlots * 4 + 256 * 4 + 2 * 64 * 4;
  if (workgroupBytes > ctx.device.limits.maxComputeWorkgroupStorageSize) {
    throw new ShapeError(`${kernel}: ${maxKeys} keys need ${workgroupBytes} bytes of workgroup memory, over the device's ${ctx.device.limits.maxComputeWorkgroupStorageSize}.`);
  }
  if (queries > 65535 || heads > 65535) throw new ShapeError(`${kernel}: ${queries} queries × ${heads} heads pass 65535 workgroups along one axis.`);
  const width = heads * headDim;
  requireSize(kernel, 'q', q, queries * width * 4);
  requireSize(kernel, 'output', output, queries * width * 4);
  if (queries > 1) {
    // Many queries: one thread a (query, head) with a running softmax, no barriers.
    const workgroups = gridFor(queries * heads, 64);
    const pipeline = ctx.pipeline('model_attention_rows', { constants: { CAUSAL: causal ? 1 : 0 }, defines: { HD: String(headDim) } });
    const params = ctx.uniform(`${kernel} params`, [queries, heads, 1 / Math.sqrt(headDim), workgroups[0]], ['u32', 'u32', 'f32', 'u32']);
    return {
      label: `${causal ? 'causal ' : ''}attention ${queries}×${heads}×${headDim}`,
      pipeline,
      bindGroups: [ctx.bindGroup(kernel, pipeline, [q, k, v, output, step, params])],
      workgroups,
    };
  }
  const pipeline = ctx.pipeline('model_attention', { constants: { CAUSAL: causal ? 1 : 0 }, defines: { MAX_KEYS: String(keySlots) } });
  const params = ctx.uniform(`${kernel} params`, [queries, width, headDim, 1 / Math.sqrt(headDim)], ['u32', 'u32', 'u32', 'f32']);
  return {
    label: `${causal ? 'causal ' : ''}attention ${queries}×${heads}×${headDim}`,
    pipeline,
    bindGroups: [ctx.bindGroup(kernel, pipeline, [q, k, v, output, step, params])],
    workgroups: [heads, queries, 1],
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
