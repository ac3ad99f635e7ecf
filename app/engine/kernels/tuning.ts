/**
 * Tuning constants of the matmul, mat-vec and quantization kernels, in one place so that a
 * retune is one edit. `select.ts` picks a set per adapter and records why.
 */

/** Method by which a workgroup combines its threads' partial sums. */
export type Reduction = 'subgroup' | 'workgroup';

/** Read path of dense f16 weights: raw halves as u32 through `unpack2x16float`, or `f16` types. */
export type F16Read = 'unpack' | 'shader-f16';

/**
 * Dense matmul kernel for more than one token. `registers` keeps a 4×4 block a thread and shares
 * loads through the cache, with no barrier. `workgroup-tiles` stages 64×64 tiles in workgroup memory.
 */
export type DenseMatmul = 'registers' | 'workgroup-tiles';

/** Ternary matmul kernel for more than one token, with the same two choices as `DenseMatmul`. */
export type TernaryMatmul = DenseMatmul;

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
  denseMatmul: DenseMatmul;
  ternaryMatmul: TernaryMatmul;
  /** Grounds for choosing this variant, for logs and `trit bench`. */
  reason: string;
}

/**
 * Shape tuning for GPUs (discrete and integrated): 64 threads a mat-vec workgroup read a weight row
 * side by side, and many small workgroups keep every core busy.
 * NOTE: these are starting values, not yet measured on a hardware GPU.
 */
export const GPU_TUNING = {
  quantizeWorkgroupSize: 256,
  matvecWorkgroupSize: 64,
  matvecRows: 4,
  matmulTokens: 4,
  matmulRows: 4,
  // NOTE: `probeVariant` picks workgroup tiles where they measure faster; unprobed, the variant
  // measured on this project's only adapter (SwiftShader) stays.
  denseMatmul: 'registers',
  ternaryMatmul: 'registers',
} as const;

/**
 * Shape tuning for CPU Vulkan drivers such as SwiftShader, which runs a workgroup's threads four
 * lanes at a time and where small workgroups measured fastest. On SwiftShader 5.0 a 2048×2048
 * ternary mat-vec took 16 ms with 4 threads × 8 rows a workgroup, 25 ms with 8 × 8, 68 ms with
 * 64 × 8 and 892 ms with 256 × 8. Quantizing 64 rows of 2048 took 1.3 ms with 4 threads and
 * 6.1 ms with 64. A 64-token matmul took 1.4 s with 4 × 8 blocks and 2.3 s with 4 × 4. These
 * are timestamp-query medians on 2 cores shared with other work, so only the ratios count.
 */
export const SOFTWARE_TUNING = {
  quantizeWorkgroupSize: 4,
  matvecWorkgroupSize: 4,
  matvecRows: 8,
  matmulTokens: 4,
  matmulRows: 8,
  denseMatmul: 'registers',
  ternaryMatmul: 'registers',
} as const;
