/**
 * Tuning constants of the matmul, mat-vec and quantization kernels, in one place so that a
 * retune is one edit. `select.ts` picks a set per adapter and records why.
 */

/** How a workgroup combines its threads' partial sums. */
export type Reduction = 'subgroup' | 'workgroup';

/** How dense f16 weights are read: raw halves as u32 through `unpack2x16float`, or `f16` types. */
export type F16Read = 'unpack' | 'shader-f16';

export interface KernelVariant {
  reduction: Reduction;
  f16Read: F16Read;
  /** Threads a workgroup of the activation quantizer (one row a workgroup). */
  quantizeWorkgroupSize: number;
  /** Threads a workgroup of the mat-vec kernels. */
  matvecWorkgroupSize: number;
  /** Output rows a mat-vec workgroup computes; its threads read each row's words side by side. */
  matvecRows: number;
  /** Register block of a matmul thread: tokens (TM) × output rows (TN); a workgroup is 8×8 threads. */
  matmulTokens: number;
  matmulRows: number;
  /** Why this variant was chosen, for logs and `trit bench`. */
  reason: string;
}

/** Shape tuning for GPUs (discrete and integrated): many small workgroups keep every core fed. */
export const GPU_TUNING = {
  quantizeWorkgroupSize: 256,
  matvecWorkgroupSize: 64,
  matvecRows: 4,
  matmulTokens: 4,
  matmulRows: 4,
} as const;

/**
 * Shape tuning for SwiftShader, a CPU Vulkan: it runs a workgroup on one core, four lanes at a
 * time, and a barrier switches between the lanes' coroutines, so fewer, fuller workgroups pay.
 */
export const SOFTWARE_TUNING = {
  quantizeWorkgroupSize: 64,
  matvecWorkgroupSize: 64,
  matvecRows: 8,
  matmulTokens: 4,
  matmulRows: 4,
} as const;
