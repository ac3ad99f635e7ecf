// The OLMo KV cache: one f32 buffer a layer holding K then V, each [heads, maxPositions, headDim]
// (head-major). For 16 layers × 16 heads × 128 dims × 2048 positions that is 32 MiB a layer,
// 512 MiB in all.
// NOTE: f32 keeps attention exact against the reference. Packing K and V as f16 would halve the
// memory and the decode bandwidth, but adds a rounding that the reference does not have.
import { gridFor, type Dispatch, type GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { requireBytes, requireCount } from './checks.ts';
import { STEP_PARAMS_BYTES } from './step.ts';

export interface KvCacheLayout {
  layers: number;
  heads: number;
  headDim: number;
  maxPositions: number;
}

export interface KvCache {
  layout: KvCacheLayout;
  /** One buffer a layer: K [heads, maxPositions, headDim] f32, then V of the same shape. */
  layers: GPUBuffer[];
}

/** f32 elements from the start of a layer's buffer to its V block. */
export function kvValueOffset(layout: KvCacheLayout): number {
  return layout.heads * layout.maxPositions * layout.headDim;
}

/** Bytes of one layer's buffer. */
export function kvLayerBytes(layout: KvCacheLayout): number {
  return 2 * kvValueOffset(layout) * 4;
}

/** Allocates the cache (contents undefined until written; attention reads only positions below kvLength). */
export function createKvCache(ctx: GpuContext, layout: KvCacheLayout): KvCache {
  for (const key of ['layers', 'heads', 'headDim', 'maxPositions'] as const) requireCount('KV cache', key, layout[key]);
  const bytes = kvLayerBytes(layout);
  if (bytes > ctx.maxBindingSize) {
    throw new ShapeError(`KV cache: one layer needs ${bytes} bytes, over this device's maxStorageBufferBindingSize of ${ctx.maxBindingSize}. Use a shorter context.`);
  }
  const layers = Array.from({ length: layout.layers }, (_, i) => ctx.createBuffer(`kv cache layer ${i}`, bytes));
  return { layout, layers };
}

/**
 * Writes k and v of `tokens` rows of `qkv` [tokens, 3·heads·headDim] f32 (after RoPE) into
 * layer `layer` of `cache` at positions step.position + t (see shaders/kv_write.wgsl).
 */
export function kvWriteKernel(ctx: GpuContext, qkv: GPUBuffer, cache: KvCache, layer: number, step: GPUBuffer, tokens: number, label = `kv write ${layer}`): Dispatch {
  const { heads, headDim, maxPositions } = cache.layout;
  requireCount(label, 'tokens', tokens);
  if (!Number.isInteger(layer) || layer < 0 || layer >= cache.layers.length) {
    throw new ShapeError(`${label}: layer ${layer} is outside the cache's ${cache.layers.length} layers.`);
  }
  requireBytes(label, 'qkv', qkv, tokens * 3 * heads * headDim * 4, `[${tokens}, ${3 * heads * headDim}] f32`);
  requireBytes(label, 'step params', step, STEP_PARAMS_BYTES, 'StepParams');

  const workgroups = gridFor(tokens * heads * headDim, 256);
  const pipeline = ctx.pipeline('kv_write');
  const params = ctx.uniform(`${label} params`, [tokens, heads, headDim, maxPositions, workgroups[0]], ['u32', 'u32', 'u32', 'u32', 'u32']);
  return { label, pipeline, bindGroups: [ctx.bindGroup(label, pipeline, [qkv, cache.layers[layer], params, step])], workgroups };
}
