import { gridFor, type Dispatch, type GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { buildRopeTable, type RopeAngles } from '../reference/rope.ts';
import { requireBytes, requireCount } from './checks.ts';
import { STEP_PARAMS_BYTES } from './step.ts';

/** The uploaded (cos, sin) table, shared by every layer. */
export interface RopeTable {
  buffer: GPUBuffer;
  maxPositions: number;
  headDim: number;
}

/** Builds the (cos, sin) table on the CPU (see `buildRopeTable`) and uploads it. */
export function uploadRopeTable(ctx: GpuContext, maxPositions: number, headDim: number, theta: number, angles: RopeAngles = 'float32'): RopeTable {
  requireCount('rope table', 'maxPositions', maxPositions);
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) throw new ShapeError(`rope table: headDim ${headDim} must be a positive even integer.`);
  const data = buildRopeTable(maxPositions, headDim, theta, angles);
  return { buffer: ctx.upload('rope cos/sin table', data), maxPositions, headDim };
}

export interface RopeOptions {
  /** OLMo's clip_qkv: clamps q, k and v to ±clip before rotating. Absent or null leaves them. */
  clip?: number | null;
  label?: string;
}

/**
 * Rotates q and k of `qkv` [tokens, 3·heads·headDim] f32 in place for positions
 * step.position + t (see shaders/rope.wgsl). `tokens` is fixed at build time.
 */
export function ropeKernel(ctx: GpuContext, qkv: GPUBuffer, table: RopeTable, step: GPUBuffer, tokens: number, heads: number, options: RopeOptions = {}): Dispatch {
  const label = options.label ?? 'rope';
  const headDim = table.headDim;
  requireCount(label, 'tokens', tokens);
  requireCount(label, 'heads', heads);
  requireBytes(label, 'qkv', qkv, tokens * 3 * heads * headDim * 4, `[${tokens}, ${3 * heads * headDim}] f32`);
  requireBytes(label, 'step params', step, STEP_PARAMS_BYTES, 'StepParams');
  const clip = options.clip ?? null;
  if (clip !== null && !(clip > 0)) throw new ShapeError(`${label}: clip_qkv ${clip} must be positive (or null to turn it off).`);

  const workgroups = gridFor(tokens * heads * (headDim / 2), 256);
  const pipeline = ctx.pipeline('rope', { constants: { CLIP: clip === null ? 0 : 1 } });
  const params = ctx.uniform(`${label} params`, [tokens, heads, headDim, table.maxPositions, clip ?? 0, workgroups[0]], ['u32', 'u32', 'u32', 'u32', 'f32', 'u32']);
  return { label, pipeline, bindGroups: [ctx.bindGroup(label, pipeline, [qkv, table.buffer, params, step])], workgroups };
}
