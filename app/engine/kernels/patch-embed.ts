import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { requireBytes, requireCount } from './checks.ts';

export interface PatchEmbedWeights {
  /** [width, 3, patch, patch], no bias. */
  conv: GPUBuffer;
  /** [width]. */
  classEmbedding: GPUBuffer;
  /** [1 + patches, width]. */
  positionEmbedding: GPUBuffer;
  /** Element type of all three: 'f16' as raw halves (no shader-f16 needed) or 'f32'. */
  dtype: 'f16' | 'f32';
}

/**
 * CLIP's embeddings: `image` f32 [3, height, width] → `out` f32 [1 + patches, channels], the
 * class row first, position embeddings added (see shaders/patch_embed.wgsl).
 */
export function patchEmbedKernel(ctx: GpuContext, image: GPUBuffer, weights: PatchEmbedWeights, out: GPUBuffer, shape: { height: number; width: number; patch: number; channels: number }, label = 'patch embedding'): Dispatch {
  const { height, width, patch, channels } = shape;
  for (const [name, value] of Object.entries(shape)) requireCount(label, name, value);
  if (height % patch !== 0 || width % patch !== 0) {
    throw new ShapeError(`${label}: image ${height}×${width} is not a whole number of ${patch}-pixel patches; resize or crop it first.`);
  }
  const gridW = width / patch;
  const patches = (height / patch) * gridW;
  const elementBytes = weights.dtype === 'f16' ? 2 : 4;
  requireBytes(label, 'image', image, 3 * height * width * 4, `[3, ${height}, ${width}] f32`);
  requireBytes(label, 'conv weight', weights.conv, channels * 3 * patch * patch * elementBytes, `[${channels}, 3, ${patch}, ${patch}] ${weights.dtype}`);
  requireBytes(label, 'class embedding', weights.classEmbedding, channels * elementBytes, `[${channels}] ${weights.dtype}`);
  requireBytes(label, 'position embedding', weights.positionEmbedding, (1 + patches) * channels * elementBytes, `[${1 + patches}, ${channels}] ${weights.dtype}`);
  requireBytes(label, 'output', out, (1 + patches) * channels * 4, `[${1 + patches}, ${channels}] f32`);
  if (1 + patches > 65535) throw new ShapeError(`${label}: ${patches} patches is over 65535 workgroups.`);

  const pipeline = ctx.pipeline('patch_embed', {
    constants: { WEIGHT_F16: weights.dtype === 'f16' ? 1 : 0 },
    defines: { PATCH_ELEMENTS: String(3 * patch * patch) },
  });
  const params = ctx.uniform(`${label} params`, [channels, patch, gridW, height, width, patches], ['u32', 'u32', 'u32', 'u32', 'u32', 'u32']);
  const bindGroup = ctx.bindGroup(label, pipeline, [image, weights.conv, weights.classEmbedding, weights.positionEmbedding, out, params]);
  return { label, pipeline, bindGroups: [bindGroup], workgroups: [1 + patches, Math.ceil(channels / 256), 1] };
}
