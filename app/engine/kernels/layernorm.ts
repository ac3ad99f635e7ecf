import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { placeholderBuffer, requireAtMost, requireBytes, requireCount } from './checks.ts';
import { checkedWorkgroupSize } from './workgroup-size.ts';

export interface LayerNormOptions {
  /** 'layer' subtracts the mean (LayerNorm); 'rms' does not (RMSNorm). */
  kind?: 'layer' | 'rms';
  /** f32 [cols], multiplied after normalizing; absent for OLMo's block norms and ln_f. */
  weight?: GPUBuffer;
  /** f32 [cols], added last. */
  bias?: GPUBuffer;
  /** 1e-5 for both CLIP and OLMo. */
  eps?: number;
  /** Threads a workgroup (a power of two); the adapter's default from `reductionWorkgroupSize` when absent. */
  workgroupSize?: number;
  label?: string;
}

/** Normalizes each row of `x` [rows, cols] f32 into `y` [rows, cols] f32 (see shaders/layernorm.wgsl). */
export function layerNormKernel(ctx: GpuContext, x: GPUBuffer, y: GPUBuffer, rows: number, cols: number, options: LayerNormOptions = {}): Dispatch {
  const label = options.label ?? 'layernorm';
  requireCount(label, 'rows', rows);
  requireCount(label, 'cols', cols);
  requireAtMost(label, 'rows', rows, 65535, 'one workgroup per row, at most 65535 per dispatch; split the rows into several calls');
  const shape = `[${rows}, ${cols}] f32`;
  requireBytes(label, 'input', x, rows * cols * 4, shape);
  requireBytes(label, 'output', y, rows * cols * 4, shape);
  if (options.weight) requireBytes(label, 'weight', options.weight, cols * 4, `[${cols}] f32`);
  if (options.bias) requireBytes(label, 'bias', options.bias, cols * 4, `[${cols}] f32`);

  const workgroupSize = checkedWorkgroupSize(ctx, label, options.workgroupSize);
  const pipeline = ctx.pipeline('layernorm', {
    constants: { WG: workgroupSize, RMS: options.kind === 'rms' ? 1 : 0, HAS_WEIGHT: options.weight ? 1 : 0, HAS_BIAS: options.bias ? 1 : 0 },
  });
  const params = ctx.uniform(`${label} params`, [rows, cols, options.eps ?? 1e-5], ['u32', 'u32', 'f32']);
  const unused = placeholderBuffer(ctx);
  const bindGroup = ctx.bindGroup(label, pipeline, [x, y, options.weight ?? unused, options.bias ?? unused, params]);
  return { label, pipeline, bindGroups: [bindGroup], workgroups: [rows, 1, 1] };
}
