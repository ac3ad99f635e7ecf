// Token sampling on the GPU: argmax, or temperature + top-p with a seeded counter-based RNG
// (see shaders/sample.wgsl). Greedy or not is read from the step buffer, so one dispatch
// serves every request.
import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { placeholderBuffer, requireBytes, requireCount } from './checks.ts';
import { STEP_PARAMS_BYTES } from './step.ts';
import { checkedWorkgroupSize } from './workgroup-size.ts';

export type ArgmaxVariant = 'subgroups' | 'workgroup';

/**
 * Picks the argmax reduction: subgroups whenever the adapter has them. Subgroup max/min plus two
 * workgroup atomics need 3 barriers where the workgroup-memory tree needs one a level, and a max
 * with lowest-id ties gives the same id in any combining order, so both variants agree exactly.
 * NOTE: on SwiftShader the two measured the same (docs/BENCHMARKS.md); the gain on GPUs is
 * expected from the barrier count, not yet measured.
 */
export function selectArgmaxVariant(ctx: GpuContext): ArgmaxVariant {
  return ctx.has('subgroups') ? 'subgroups' : 'workgroup';
}

export interface SampleOptions {
  /** Ids below it can be chosen (OLMo: 50280); the logits row needs at least this many values. */
  vocabSize: number;
  /** Index of the row's first logit in `logits`, in f32 elements (e.g. the last prefill row). */
  logitsOffset?: number;
  /** u32 buffer that also receives the id at index step.sampleIndex. */
  history?: GPUBuffer;
  /** f32 [vocabSize + 4] working memory; allocated when absent. Tests read τ, kept mass, Z and kept count from its tail. */
  scratch?: GPUBuffer;
  variant?: ArgmaxVariant;
  /** Threads of the one workgroup (a power of two); the adapter's default from `reductionWorkgroupSize` when absent. */
  workgroupSize?: number;
  label?: string;
}

/** Writes the chosen id of the logits row into `token` (u32 [1]). */
export function sampleKernel(ctx: GpuContext, logits: GPUBuffer, token: GPUBuffer, step: GPUBuffer, options: SampleOptions): Dispatch {
  const label = options.label ?? 'sample';
  const { vocabSize } = options;
  const logitsOffset = options.logitsOffset ?? 0;
  requireCount(label, 'vocabSize', vocabSize);
  requireCount(label, 'logitsOffset', logitsOffset, true);
  requireBytes(label, 'logits', logits, (logitsOffset + vocabSize) * 4, `${vocabSize} f32 logits at offset ${logitsOffset}`);
  requireBytes(label, 'token', token, 4, '[1] u32');
  requireBytes(label, 'step params', step, STEP_PARAMS_BYTES, 'StepParams');
  const scratch = options.scratch ?? ctx.createBuffer(`${label} scratch`, (vocabSize + 4) * 4);
  requireBytes(label, 'scratch', scratch, (vocabSize + 4) * 4, `[${vocabSize + 4}] f32`);

  const variant = options.variant ?? selectArgmaxVariant(ctx);
  const subgroups = variant === 'subgroups';
  const pipeline = ctx.pipeline('sample', {
    constants: { WG: checkedWorkgroupSize(ctx, label, options.workgroupSize), HISTORY: options.history ? 1 : 0 },
    defines: {
      ENABLE_SUBGROUPS: subgroups ? 'enable subgroups;' : '',
      IF_SUBGROUPS: subgroups ? '' : '/*',
      END_IF_SUBGROUPS: subgroups ? '' : '*/',
      IF_NOT_SUBGROUPS: subgroups ? '/*' : '',
      END_IF_NOT_SUBGROUPS: subgroups ? '*/' : '',
    },
  });
  const params = ctx.uniform(`${label} params`, [vocabSize, logitsOffset], ['u32', 'u32']);
  const bindGroup = ctx.bindGroup(label, pipeline, [logits, token, options.history ?? placeholderBuffer(ctx), scratch, params, step]);
  return { label: `${label} (${variant})`, pipeline, bindGroups: [bindGroup], workgroups: [1, 1, 1] };
}
