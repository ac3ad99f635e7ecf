// Test helpers of the matmul kernels: every variant a device can run.
import type { GpuContext } from '../gpu/context.ts';
import { selectVariant } from './select.ts';
import { GPU_TUNING, SOFTWARE_TUNING, type KernelVariant, type Reduction } from './tuning.ts';

/**
 * Variants to test on `ctx`: each reduction the device offers, each crossed with both tuning
 * tables so the workgroup and tile shapes of other adapters run here too. The GPU table runs the
 * workgroup-tiled matmuls, the software table the register-tiled ones.
 */
export function variantsFor(ctx: GpuContext): { name: string; variant: KernelVariant }[] {
  const base = selectVariant(ctx);
  const reductions: Reduction[] = ctx.has('subgroups') ? ['subgroup', 'workgroup'] : ['workgroup'];
  const out: { name: string; variant: KernelVariant }[] = [];
  for (const reduction of reductions) {
    for (const [tuningName, tuning] of [['gpu', GPU_TUNING], ['software', SOFTWARE_TUNING]] as const) {
      const matmul = tuningName === 'gpu' ? 'workgroup-tiles' : 'registers';
      out.push({ name: `${reduction}/${tuningName}`, variant: { ...base, ...tuning, reduction, denseMatmul: matmul, ternaryMatmul: matmul, reason: 'test' } });
    }
  }
  return out;
}
