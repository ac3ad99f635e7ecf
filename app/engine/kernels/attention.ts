// Scaled dot-product attention (see shaders/attention.wgsl), with the two forms the model uses:
// causal attention over the KV cache (OLMo prefill and decode) and full attention over packed
// q | k | v rows (CLIP).
import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { requireBytes, requireCount } from './checks.ts';
import { kvValueOffset, type KvCache } from './kv-cache.ts';
import { STEP_PARAMS_BYTES } from './step.ts';
import { checkedWorkgroupSize } from './workgroup-size.ts';
import { isSoftwareAdapter } from './select.ts';

/** Strided layout of an operand: element (row r, head h, dim j) is buffer[offset + h·headStride + r·rowStride + j], in f32 elements. */
export interface AttentionOperand {
  buffer: GPUBuffer;
  offset: number;
  rowStride: number;
  headStride: number;
}

export interface AttentionSpec {
  q: AttentionOperand;
  k: AttentionOperand;
  v: AttentionOperand;
  /** f32 [tokens, outStride]; head h is written at columns h·headDim .. (h+1)·headDim - 1. */
  out: GPUBuffer;
  outStride?: number;
  tokens: number;
  heads: number;
  headDim: number;
  /** Key rows available to k and v; the most any step may use. */
  maxKeys: number;
  causal: boolean;
  /**
   * With a step buffer, the key count is step.kvLength and query t is at position
   * step.position + t. Without one, every query attends to `maxKeys` keys and positions start at 0.
   */
  step?: GPUBuffer;
  /** 1/sqrt(headDim) unless given. */
  scale?: number;
  /** Threads a workgroup (a power of two); the adapter's default from `reductionWorkgroupSize` when absent. */
  workgroupSize?: number;
  label?: string;
}

/** Largest head dim: the query row lives in a workgroup array of this size. */
const MAX_HEAD_DIM = 256;

/** Builds an attention dispatch from explicit operand layouts. */
export function attentionKernel(ctx: GpuContext, spec: AttentionSpec): Dispatch {
  const label = spec.label ?? 'attention';
  const { tokens, heads, headDim, maxKeys } = spec;
  requireCount(label, 'tokens', tokens);
  requireCount(label, 'heads', heads);
  requireCount(label, 'headDim', headDim);
  requireCount(label, 'maxKeys', maxKeys);
  if (headDim > MAX_HEAD_DIM) throw new ShapeError(`${label}: headDim ${headDim} is over the supported ${MAX_HEAD_DIM}.`);
  const workgroupSize = checkedWorkgroupSize(ctx, label, spec.workgroupSize);
  if (tokens > 65535 || heads > 65535) throw new ShapeError(`${label}: ${tokens} tokens × ${heads} heads is over 65535 workgroups in a dimension.`);
  const sharedBytes = (maxKeys + MAX_HEAD_DIM + workgroupSize) * 4;
  const sharedLimit = ctx.device.limits.maxComputeWorkgroupStorageSize;
  if (sharedBytes > sharedLimit) {
    throw new ShapeError(`${label}: ${maxKeys} keys need ${sharedBytes} bytes of workgroup memory, over this device's ${sharedLimit}.`);
  }
  const outStride = spec.outStride ?? heads * headDim;
  requireOperand(label, 'q', spec.q, tokens, heads, headDim);
  requireOperand(label, 'k', spec.k, maxKeys, heads, headDim);
  requireOperand(label, 'v', spec.v, maxKeys, heads, headDim);
  requireBytes(label, 'output', spec.out, ((tokens - 1) * outStride + heads * headDim) * 4, `[${tokens}, ${outStride}] f32`);
  if (spec.step) requireBytes(label, 'step params', spec.step, STEP_PARAMS_BYTES, 'StepParams');

  const pipeline = ctx.pipeline('attention', {
    constants: { WG: workgroupSize, CAUSAL: spec.causal ? 1 : 0, USE_STEP: spec.step ? 1 : 0 },
    defines: { MAX_KEYS: String(maxKeys) },
  });
  const { q, k, v } = spec;
  const params = ctx.uniform(
    `${label} params`,
    [tokens, heads, headDim, maxKeys, q.offset, q.rowStride, q.headStride, k.offset, k.rowStride, k.headStride, v.offset, v.rowStride, v.headStride, outStride, spec.scale ?? 1 / Math.sqrt(headDim)],
    ['u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'f32'],
  );
  // Without a step buffer the shader never reads it, but the binding must still be filled.
  const step = spec.step ?? ctx.uniform(`${label} unused step`, new Array(8).fill(0), ['u32', 'u32', 'u32', 'u32', 'f32', 'f32', 'u32', 'u32']);
  const bindGroup = ctx.bindGroup(label, pipeline, [q.buffer, k.buffer, v.buffer, spec.out, params, step]);
  return { label, pipeline, bindGroups: [bindGroup], workgroups: [tokens, heads, 1] };
}

function requireOperand(label: string, name: string, operand: AttentionOperand, rows: number, heads: number, headDim: number): void {
  const last = operand.offset + (heads - 1) * operand.headStride + (rows - 1) * operand.rowStride + headDim;
  requireBytes(label, name, operand.buffer, last * 4, `${rows} rows × ${heads} heads × ${headDim} dims at offset ${operand.offset}`);
}

/**
 * Builds OLMo's causal attention for one layer: queries are the q part of `qkv` [tokens, 3·d]
 * (after RoPE), and keys and values come from the layer's cache, which must already contain this
 * step's tokens (run `kvWriteKernel` first). Positions and the key count come from `step`, so
 * one dispatch serves a prefill of `tokens` rows and, built with tokens = 1, every decode step.
 * It runs one workgroup per (token, head), so a decode step gets only 16 workgroups. On GPUs,
 * `decodeAttentionKernels` splits the keys across workgroups instead.
 */
export function cachedAttentionKernel(ctx: GpuContext, qkv: GPUBuffer, cache: KvCache, layer: number, out: GPUBuffer, step: GPUBuffer, tokens: number, label = `attention ${layer}`, workgroupSize?: number): Dispatch {
  const { heads, headDim, maxPositions } = cache.layout;
  const buffer = cache.layers[layer];
  if (!buffer) throw new ShapeError(`${label}: layer ${layer} is outside the cache's ${cache.layers.length} layers.`);
  const d = heads * headDim;
  const perHead = maxPositions * headDim;
  return attentionKernel(ctx, {
    q: { buffer: qkv, offset: 0, rowStride: 3 * d, headStride: headDim },
    k: { buffer, offset: 0, rowStride: headDim, headStride: perHead },
    v: { buffer, offset: kvValueOffset(cache.layout), rowStride: headDim, headStride: perHead },
    out,
    tokens,
    heads,
    headDim,
    maxKeys: maxPositions,
    causal: true,
    step,
    workgroupSize,
    label,
  });
}

/** Builds CLIP's attention: full (unmasked) over `tokens` rows of `qkv` [tokens, 3·heads·headDim] = q | k | v, biases applied. */
export function fullAttentionKernel(ctx: GpuContext, qkv: GPUBuffer, out: GPUBuffer, tokens: number, heads: number, headDim: number, label = 'full attention', workgroupSize?: number): Dispatch {
  const d = heads * headDim;
  const operand = (section: number): AttentionOperand => ({ buffer: qkv, offset: section * d, rowStride: 3 * d, headStride: headDim });
  return attentionKernel(ctx, { q: operand(0), k: operand(1), v: operand(2), out, tokens, heads, headDim, maxKeys: tokens, causal: false, workgroupSize, label });
}

export type DecodeAttentionVariant = 'single' | 'split';

/**
 * Picks the decode attention variant. GPUs get 'split' (heads × key chunks workgroups, then a
 * combine), because 'single' runs one workgroup a head, 16 for OLMo, and leaves most cores idle.
 * CPU drivers such as SwiftShader already have enough workgroups for their few cores and pay
 * for the second dispatch, so they get 'single'.
 * NOTE: the split variant is checked for correctness on SwiftShader only; its speed-up on GPUs
 * is expected from the occupancy, not yet measured.
 */
export function selectDecodeAttentionVariant(ctx: GpuContext): DecodeAttentionVariant {
  return isSoftwareAdapter(ctx) ? 'single' : 'split';
}

export interface DecodeAttentionOptions {
  variant?: DecodeAttentionVariant;
  /** Threads a workgroup, and keys a chunk for 'split' (a power of two ≥ headDim there; 128 when absent). */
  workgroupSize?: number;
  label?: string;
}

/**
 * Builds OLMo's attention for one decode step (one token, at position step.kvLength - 1) of
 * layer `layer`: `qkv` [1, 3·d] after RoPE, and the cache must already contain this token's k and v.
 * Returns one dispatch ('single', the causal kernel) or two ('split': partial, then combine),
 * to be encoded in order.
 */
export function decodeAttentionKernels(ctx: GpuContext, qkv: GPUBuffer, cache: KvCache, layer: number, out: GPUBuffer, step: GPUBuffer, options: DecodeAttentionOptions = {}): Dispatch[] {
  const label = options.label ?? `decode attention ${layer}`;
  const variant = options.variant ?? selectDecodeAttentionVariant(ctx);
  if (variant === 'single') return [cachedAttentionKernel(ctx, qkv, cache, layer, out, step, 1, label, options.workgroupSize)];

  const { heads, headDim, maxPositions } = cache.layout;
  const buffer = cache.layers[layer];
  if (!buffer) throw new ShapeError(`${label}: layer ${layer} is outside the cache's ${cache.layers.length} layers.`);
  const workgroupSize = checkedWorkgroupSize(ctx, label, options.workgroupSize ?? 128);
  if (workgroupSize < headDim) throw new ShapeError(`${label}: the split variant needs workgroupSize ≥ headDim; got ${workgroupSize} < ${headDim}.`);
  if (headDim > MAX_HEAD_DIM) throw new ShapeError(`${label}: headDim ${headDim} is over the supported ${MAX_HEAD_DIM}.`);
  requireBytes(label, 'qkv', qkv, 3 * heads * headDim * 4, `[1, ${3 * heads * headDim}] f32`);
  requireBytes(label, 'output', out, heads * headDim * 4, `[1, ${heads * headDim}] f32`);
  requireBytes(label, 'step params', step, STEP_PARAMS_BYTES, 'StepParams');

  const chunks = Math.ceil(maxPositions / workgroupSize);
  const partials = ctx.createBuffer(`${label} partials`, heads * chunks * (headDim + 2) * 4);
  const params = ctx.uniform(`${label} params`, [heads, headDim, maxPositions, chunks, 1 / Math.sqrt(headDim)], ['u32', 'u32', 'u32', 'u32', 'f32']);
  const constants = { WG: workgroupSize };
  const partialPipeline = ctx.pipeline('attention_decode', { constants }, 'partial_main');
  const combinePipeline = ctx.pipeline('attention_decode', { constants }, 'combine_main');
  const bind = (pipeline: GPUComputePipeline, name: string, entries: [number, GPUBuffer][]) =>
    ctx.device.createBindGroup({ label: name, layout: pipeline.getBindGroupLayout(0), entries: entries.map(([binding, b]) => ({ binding, resource: { buffer: b } })) });
  return [
    {
      label: `${label} partial`,
      pipeline: partialPipeline,
      bindGroups: [bind(partialPipeline, `${label} partial`, [[0, qkv], [1, buffer], [2, partials], [3, params], [4, step]])],
      workgroups: [chunks, heads, 1],
    },
    {
      label: `${label} combine`,
      pipeline: combinePipeline,
      bindGroups: [bind(combinePipeline, `${label} combine`, [[2, partials], [3, params], [5, out]])],
      workgroups: [heads, 1, 1],
    },
  ];
}
