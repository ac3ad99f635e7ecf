// Token sampling on the GPU: argmax, or temperature + top-p with a seeded counter-based RNG
// (see shaders/sample.wgsl). Greedy or not is read from the step buffer, so one dispatch
// serves every request.
import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { placeholderBuffer, requireBytes, requireCount } from './checks.ts';
import { STEP_PARAMS_BYTES } from './step.ts';

export type ArgmaxVariant = 'subgroups' | 'workgroup';

/**
 * Picks the argmax reduction. Subgroup max/min plus two workgroup atomics take 3 barriers
 * where the workgroup-memory tree takes 9 (barriers are what software adapters such as
 * SwiftShader run slowest), and a max with lowest-id ties gives the same answer in any
 * combining order, so the subgroup form is used whenever the adapter has subgroups.
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
    constants: { HISTORY: options.history ? 1 : 0 },
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
