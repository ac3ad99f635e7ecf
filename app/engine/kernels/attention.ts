// Scaled dot-product attention (see shaders/attention.wgsl), with the two forms the model uses:
// causal attention over the KV cache (OLMo prefill and decode) and full attention over packed
// q | k | v rows (CLIP).
import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { requireBytes, requireCount } from './checks.ts';
import { kvValueOffset, type KvCache } from './kv-cache.ts';
import { STEP_PARAMS_BYTES } from './step.ts';
import { checkedWorkgroupSize } from './workgroup-size.ts';

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
 * NOTE: decode runs one workgroup a head (16 in all), which leaves most of a large GPU idle;
 * splitting the keys across workgroups would need a second combining pass.
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
