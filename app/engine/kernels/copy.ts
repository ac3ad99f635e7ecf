import { gridFor, type Dispatch, type GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';

/** Copies `bytes` (a multiple of 16) from `src` to `dst`. */
export function copyKernel(ctx: GpuContext, src: GPUBuffer, dst: GPUBuffer, bytes: number): Dispatch {
  if (bytes % 16 !== 0 || bytes > src.size || bytes > dst.size) {
    throw new ShapeError(`copy: ${bytes} bytes does not fit src "${src.label}" (${src.size}) and dst "${dst.label}" (${dst.size}), or is not a multiple of 16.`);
  }
  const n4 = bytes / 16;
  const workgroups = gridFor(n4, 256);
  const pipeline = ctx.pipeline('copy');
  const params = ctx.uniform('copy params', [n4, workgroups[0]], ['u32', 'u32']);
  return { label: 'copy', pipeline, bindGroups: [ctx.bindGroup('copy', pipeline, [src, dst, params])], workgroups };
}
