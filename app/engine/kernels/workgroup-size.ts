// Workgroup size of the kernels that reduce a row in workgroup memory (layernorm, softmax,
// attention, sample): each pays one barrier a tree level, and CPU drivers pay for a barrier in
// proportion to the threads they switch between.
import type { GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { isSoftwareAdapter } from './select.ts';

/** Threads a workgroup on GPUs: enough to keep a row's loads coalesced and the cores busy. */
export const GPU_REDUCTION_WORKGROUP = 256;

/**
 * Threads a workgroup on CPU Vulkan drivers such as SwiftShader. On SwiftShader 5.0 with 4, 16,
 * 64 and 256 threads, LayerNorm of [577, 1024] took 25, 61, 97 and 820 ms. Decode attention
 * over 2048 positions took 104, 113, 207 and 310 ms, and CLIP attention (577 tokens, 16 heads of
 * 64) 4.8, 8.6, 19 and 44 s. Top-p sampling over 50280 ids took 33, 31, 39 and 51 ms. These are
 * timestamp queries on 2 shared cores, so only the ratios carry over (docs/BENCHMARKS.md).
 */
export const SOFTWARE_REDUCTION_WORKGROUP = 4;

/** Picks the reduction workgroup size for the adapter of `ctx`. */
export function reductionWorkgroupSize(ctx: GpuContext): number {
  return isSoftwareAdapter(ctx) ? SOFTWARE_REDUCTION_WORKGROUP : GPU_REDUCTION_WORKGROUP;
}

/** Returns `requested` (or the adapter's default) after checking it is a power of two the device allows. */
export function checkedWorkgroupSize(ctx: GpuContext, kernel: string, requested?: number): number {
  const size = requested ?? reductionWorkgroupSize(ctx);
  const limit = ctx.device.limits.maxComputeInvocationsPerWorkgroup;
  if (!Number.isInteger(size) || size < 1 || (size & (size - 1)) !== 0 || size > limit) {
    throw new ShapeError(`${kernel}: workgroup size ${size} must be a power of two no larger than ${limit}.`);
  }
  return size;
}
