/**
 * Picks the kernel variant for an adapter: the reduction (subgroup operations or workgroup memory),
 * how f16 weights are read, and the workgroup shapes of `tuning.ts`. `selectVariant` decides from
 * the adapter's features and kind; `probeVariant` also times both reductions on a mat-vec and keeps
 * the faster. Either way the variant's `reason` records why it was chosen.
 */
import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { GpuError } from '../gpu/errors.ts';
import { GPU_TUNING, SOFTWARE_TUNING, type DenseMatmul, type KernelVariant, type Reduction } from './tuning.ts';

export type { DenseMatmul, KernelVariant, Reduction, F16Read } from './tuning.ts';

/** A variant needs a feature the device was created without. */
export class UnsupportedVariantError extends GpuError {
  override name = 'UnsupportedVariantError';
}

const chosen = new WeakMap<GpuContext, KernelVariant>();
/** Contexts whose variant came from `probeVariant`, so loading a second model does not time again. */
const probed = new WeakSet<GpuContext>();

/** Returns true once `probeVariant` has run on `ctx`. */
export function wasProbed(ctx: GpuContext): boolean {
  return probed.has(ctx);
}

/** True for CPU implementations of Vulkan (SwiftShader, lavapipe/llvmpipe). */
export function isSoftwareAdapter(ctx: GpuContext): boolean {
  const { vendor, architecture, device, description } = ctx.handle.summary;
  return /swiftshader|llvmpipe|lavapipe/i.test(`${vendor} ${architecture} ${device} ${description}`);
}

/** Chooses a variant from the adapter's features and kind, without running anything. */
export function selectVariant(ctx: GpuContext): KernelVariant {
  const subgroups = ctx.has('subgroups');
  const reduction: Reduction = subgroups ? 'subgroup' : 'workgroup';
  const reductionReason = subgroups ? 'the subgroups feature is present' : 'the device has no subgroups feature';
  return variantWith(ctx, reduction, reductionReason);
}

function variantWith(ctx: GpuContext, reduction: Reduction, reductionReason: string): KernelVariant {
  const software = isSoftwareAdapter(ctx);
  const f16 = ctx.has('shader-f16');
  const reasons = [
    software ? 'software adapter: fewer, fuller workgroups' : 'GPU adapter: small workgroups',
    `${reduction} reductions (${reductionReason})`,
    f16 ? 'f16 weights read as f16 (shader-f16 present)' : 'f16 weights unpacked from u32 (no shader-f16)',
  ];
  return {
    reduction,
    f16Read: f16 ? 'shader-f16' : 'unpack',
    ...(software ? SOFTWARE_TUNING : GPU_TUNING),
    reason: reasons.join('; '),
  };
}

/** Returns the variant the wrappers use for `ctx`: the probed one if `probeVariant` ran, else `selectVariant`'s. */
export function kernelVariant(ctx: GpuContext): KernelVariant {
  let variant = chosen.get(ctx);
  if (!variant) {
    variant = selectVariant(ctx);
    chosen.set(ctx, variant);
  }
  return variant;
}

/** Makes `variant` the one the wrappers use for `ctx` from now on (dispatches built earlier keep theirs). */
export function useVariant(ctx: GpuContext, variant: KernelVariant): void {
  checkVariant(ctx, variant);
  chosen.set(ctx, variant);
}

/** Throws when `variant` needs a feature `ctx` lacks. */
export function checkVariant(ctx: GpuContext, variant: KernelVariant): void {
  if (variant.reduction === 'subgroup' && !ctx.has('subgroups')) {
    throw new UnsupportedVariantError('The subgroup reduction needs the "subgroups" feature, which this device lacks. Use reduction "workgroup".');
  }
  if (variant.f16Read === 'shader-f16' && !ctx.has('shader-f16')) {
    throw new UnsupportedVariantError('Reading f16 weights as f16 needs the "shader-f16" feature, which this device lacks. Use f16Read "unpack".');
  }
}

/**
 * WGSL text for the `{{ENABLE}}`, `{{SUBGROUP_BUILTINS}}` and `{{REDUCE}}` placeholders of a kernel
 * that combines partial sums: with subgroups, `subgroupStatements` reduce inside each subgroup and
 * `stride` becomes the subgroup size, so one slot in `stride` contains each subgroup's total.
 * NOTE: this assumes subgroups cover consecutive local invocation indices, which WGSL does not
 * promise but Vulkan, Metal and D3D12 drivers do for one-dimensional workgroups.
 */
export function reductionDefines(reduction: Reduction, subgroupStatements: string, extraEnable = ''): Record<string, string> {
  if (reduction === 'subgroup') {
    return {
      ENABLE: `${extraEnable}\nenable subgroups;`,
      SUBGROUP_BUILTINS: '@builtin(subgroup_size) sgSize: u32,',
      REDUCE: `${subgroupStatements}\n    stride = sgSize;`,
    };
  }
  return { ENABLE: extraEnable, SUBGROUP_BUILTINS: '', REDUCE: '' };
}

export interface ProbeOptions {
  /**
   * Dense matmul shape to time both matmul variants on (default 576 tokens × 1024 → 1024 f16, a
   * CLIP projection). Without it, software adapters skip this probe and keep register tiles,
   * because barriers are their slowest step and the probe would take seconds.
   */
  denseShape?: { tokens: number; inFeatures: number; outFeatures: number };
  /** Ternary matmul shape for the same choice (default 576 tokens × 2048 → 2048, `attn_out` over a prompt). */
  ternaryShape?: { tokens: number; inFeatures: number; outFeatures: number };
}

type MatmulMedians = Record<DenseMatmul, number>;

async function timeMatmuls(ctx: GpuContext, build: (matmul: DenseMatmul) => Dispatch[]): Promise<MatmulMedians> {
  const { timeDispatches } = await import('../bench/timer.ts');
  const medians: MatmulMedians = { registers: 0, 'workgroup-tiles': 0 };
  for (const matmul of ['registers', 'workgroup-tiles'] as const) {
    medians[matmul] = (await timeDispatches(ctx, build(matmul), { runs: 5 })).medianMs;
  }
  return medians;
}

function fasterMatmul(medians: MatmulMedians): DenseMatmul {
  return medians['workgroup-tiles'] < medians.registers ? 'workgroup-tiles' : 'registers';
}

function describeMatmuls(chosen: DenseMatmul, medians: MatmulMedians, shape: string): string {
  return `${chosen} (${shape}: registers ${medians.registers.toFixed(3)} ms, workgroup tiles ${medians['workgroup-tiles'].toFixed(3)} ms)`;
}

/**
 * Times the variants on this adapter and keeps the faster for `ctx`: both reductions on a
 * 2048×2048 ternary mat-vec (the shape of `attn_out`) when the device has subgroups, and both
 * dense and both ternary matmuls (see `ProbeOptions`). Returns the variant with the timings in
 * `reason`. On SwiftShader, where the matmul probes are skipped, it took under a second.
 */
export async function probeVariant(ctx: GpuContext, options: ProbeOptions = {}): Promise<KernelVariant> {
  const { timeDispatches } = await import('../bench/timer.ts');
  let variant = selectVariant(ctx);

  if (ctx.has('subgroups')) {
    const { ternaryLinear } = await import('./ternary.ts');
    const rows = 2048;
    const cols = 2048;
    const q = ctx.createBuffer('probe activations', cols);
    const scales = ctx.upload('probe scales', new Float32Array([1]));
    const weight = ctx.createBuffer('probe weight', (rows * cols) / 4);
    const output = ctx.createBuffer('probe output', rows * 4);
    const medians: Record<Reduction, number> = { subgroup: 0, workgroup: 0 };
    for (const reduction of ['subgroup', 'workgroup'] as const) {
      const dispatch = ternaryLinear(ctx, { q, scales, weight, sw: 1, tokens: 1, inFeatures: cols, outFeatures: rows, output }, { ...variant, reduction });
      medians[reduction] = (await timeDispatches(ctx, [dispatch], { runs: 9 })).medianMs;
    }
    for (const buffer of [q, scales, weight, output]) buffer.destroy();
    const reduction: Reduction = medians.subgroup <= medians.workgroup ? 'subgroup' : 'workgroup';
    const timings = `faster on a 2048×2048 ternary mat-vec: subgroup ${medians.subgroup.toFixed(3)} ms, workgroup ${medians.workgroup.toFixed(3)} ms`;
    variant = variantWith(ctx, reduction, timings);
  }

  if (options.denseShape || !isSoftwareAdapter(ctx)) {
    const { denseLinear } = await import('./dense.ts');
    const { tokens, inFeatures, outFeatures } = options.denseShape ?? { tokens: 576, inFeatures: 1024, outFeatures: 1024 };
    const input = ctx.createBuffer('probe dense input', tokens * inFeatures * 4);
    const part = ctx.createBuffer('probe dense weight', outFeatures * inFeatures * 2);
    const output = ctx.createBuffer('probe dense output', tokens * outFeatures * 4);
    const weight = { parts: [part], rowsPerPart: outFeatures, dtype: 'f16' as const };
    const medians = await timeMatmuls(ctx, (matmul) => denseLinear(ctx, { input, weight, tokens, inFeatures, outFeatures, output }, { ...variant, denseMatmul: matmul }));
    for (const buffer of [input, part, output]) buffer.destroy();
    const denseMatmul = fasterMatmul(medians);
    variant = { ...variant, denseMatmul, reason: `${variant.reason}; dense matmul with ${describeMatmuls(denseMatmul, medians, `${tokens}×${inFeatures}→${outFeatures} f16`)}` };
  }

  if (options.ternaryShape || !isSoftwareAdapter(ctx)) {
    const { ternaryLinear } = await import('./ternary.ts');
    const { tokens, inFeatures, outFeatures } = options.ternaryShape ?? { tokens: 576, inFeatures: 2048, outFeatures: 2048 };
    const q = ctx.createBuffer('probe ternary activations', tokens * inFeatures);
    const scales = ctx.createBuffer('probe ternary scales', tokens * 4);
    const weight = ctx.createBuffer('probe ternary weight', (outFeatures * inFeatures) / 4);
    const output = ctx.createBuffer('probe ternary output', tokens * outFeatures * 4);
    const medians = await timeMatmuls(ctx, (matmul) => [ternaryLinear(ctx, { q, scales, weight, sw: 1, tokens, inFeatures, outFeatures, output }, { ...variant, ternaryMatmul: matmul })]);
    for (const buffer of [q, scales, weight, output]) buffer.destroy();
    const ternaryMatmul = fasterMatmul(medians);
    variant = { ...variant, ternaryMatmul, reason: `${variant.reason}; ternary matmul with ${describeMatmuls(ternaryMatmul, medians, `${tokens}×${inFeatures}→${outFeatures}`)}` };
  }

  useVariant(ctx, variant);
  probed.add(ctx);
  return variant;
}
