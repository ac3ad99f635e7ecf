/**
 * Page side of the matmul kernel harness. It runs the BitLinear quantizer, the ternary product
 * and the dense product on the browser's WebGPU, with every kernel variant the adapter offers.
 * It returns the raw outputs, which the spec compares with the CPU references.
 */
import '../../app/engine/gpu/shaders.browser.ts';
import { GpuContext } from '../../app/engine/gpu/context.ts';
import { describeAdapter, requestBrowserDevice } from '../../app/engine/gpu/device.ts';
import { denseLinear, uploadDenseWeight } from '../../app/engine/kernels/dense.ts';
import { quantizeActivations } from '../../app/engine/kernels/quantize.ts';
import { ternaryLinear } from '../../app/engine/kernels/ternary.ts';
import { variantsFor } from '../../app/engine/kernels/testing.ts';

export interface MatmulRequest {
  /** f32 [tokens, inFeatures], quantized and then multiplied by the ternary weight. */
  x: number[];
  /** Packed ternary weight [outFeatures, inFeatures] (`TERNARY_PACKING`). */
  ternaryWords: number[];
  /** f16 bits of the dense weight [outFeatures, inFeatures]. */
  denseHalves: number[];
  tokens: number;
  inFeatures: number;
  outFeatures: number;
}

export interface MatmulVariantResult {
  variant: string;
  /** xq of every token, int8. */
  q: number[];
  scales: number[];
  /** Ternary outputs with one token (mat-vec) and with all tokens (matmul), sw = 1. */
  ternaryMatvec: number[];
  ternaryMatmul: number[];
  /** Dense f16 outputs, with the weight split into parts of 8 rows, one token and all tokens. */
  denseMatvec: number[];
  denseMatmul: number[];
}

export type MatmulResult = { adapter: string; results: MatmulVariantResult[] } | { error: { name: string; message: string } };

async function run(request: MatmulRequest): Promise<MatmulResult> {
  try {
    const handle = await requestBrowserDevice();
    const ctx = new GpuContext(handle);
    const { tokens, inFeatures, outFeatures } = request;
    const input = ctx.upload('harness x', new Float32Array(request.x));
    const weight = ctx.upload('harness ternary weight', new Uint32Array(request.ternaryWords));
    const dense = uploadDenseWeight(ctx, 'harness dense weight', new Uint16Array(request.denseHalves), outFeatures, inFeatures, 'f16', 8 * inFeatures * 2);
    const results: MatmulVariantResult[] = [];

    for (const { name, variant } of variantsFor(ctx)) {
      const q = ctx.createBuffer('harness q', tokens * inFeatures);
      const scales = ctx.createBuffer('harness scales', tokens * 4);
      const matvec = ctx.createBuffer('harness ternary matvec', outFeatures * 4);
      const matmul = ctx.createBuffer('harness ternary matmul', tokens * outFeatures * 4);
      const denseVec = ctx.createBuffer('harness dense matvec', outFeatures * 4);
      const denseMat = ctx.createBuffer('harness dense matmul', tokens * outFeatures * 4);
      const ternaryArgs = { q, scales, weight, sw: 1, inFeatures, outFeatures };
      const denseArgs = { input, weight: dense, inFeatures, outFeatures };
      ctx.run([
        quantizeActivations(ctx, { input, rows: tokens, cols: inFeatures, q, scales }, variant),
        ternaryLinear(ctx, { ...ternaryArgs, tokens: 1, output: matvec }, variant),
        ternaryLinear(ctx, { ...ternaryArgs, tokens, output: matmul }, variant),
        ...denseLinear(ctx, { ...denseArgs, tokens: 1, output: denseVec }, variant),
        ...denseLinear(ctx, { ...denseArgs, tokens, output: denseMat }, variant),
      ]);
      results.push({
        variant: name,
        q: Array.from(new Int8Array(await ctx.read(q, tokens * inFeatures))),
        scales: Array.from(new Float32Array(await ctx.read(scales))),
        ternaryMatvec: Array.from(new Float32Array(await ctx.read(matvec))),
        ternaryMatmul: Array.from(new Float32Array(await ctx.read(matmul))),
        denseMatvec: Array.from(new Float32Array(await ctx.read(denseVec))),
        denseMatmul: Array.from(new Float32Array(await ctx.read(denseMat))),
      });
    }
    ctx.device.destroy();
    return { adapter: describeAdapter(handle.summary), results };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return { error: { name: e.name, message: e.message } };
  }
}

const harness = { run };

declare global {
  interface Window {
    matmulHarness: typeof harness;
  }
}

window.matmulHarness = harness;
