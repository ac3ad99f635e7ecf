import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { requireAtMost, requireBytes, requireCount } from './checks.ts';
import { checkedWorkgroupSize } from './workgroup-size.ts';

/** Softmax of each row of `x` [rows, cols] f32, in place (see shaders/softmax.wgsl). */
export function softmaxKernel(ctx: GpuContext, x: GPUBuffer, rows: number, cols: number, label = 'softmax', workgroupSize?: number): Dispatch {
  requireCount(label, 'rows', rows);
  requireCount(label, 'cols', cols);
  requireAtMost(label, 'rows', rows, 65535, 'one workgroup per row, at most 65535 per dispatch; split the rows into several calls');
  requireBytes(label, 'input', x, rows * cols * 4, `[${rows}, ${cols}] f32`);
  const pipeline = ctx.pipeline('softmax', { constants: { WG: checkedWorkgroupSize(ctx, label, workgroupSize) } });
  const params = ctx.uniform(`${label} params`, [rows, cols], ['u32', 'u32']);
  return { label, pipeline, bindGroups: [ctx.bindGroup(label, pipeline, [x, params])], workgroups: [rows, 1, 1] };
}
