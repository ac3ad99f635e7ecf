/** Runs a few kernels through their TS wrappers and WGSL on the browser's WebGPU, in a page or a worker. */
import '../../app/engine/gpu/shaders.browser.ts';
import { GpuContext } from '../../app/engine/gpu/context.ts';
import { describeAdapter, requestBrowserDevice } from '../../app/engine/gpu/device.ts';
import { cachedAttentionKernel } from '../../app/engine/kernels/attention.ts';
import { geluKernel } from '../../app/engine/kernels/elementwise.ts';
import { createKvCache, kvWriteKernel } from '../../app/engine/kernels/kv-cache.ts';
import { layerNormKernel } from '../../app/engine/kernels/layernorm.ts';
import { sampleKernel, selectArgmaxVariant } from '../../app/engine/kernels/sample.ts';
import { createStepBuffer } from '../../app/engine/kernels/step.ts';

export interface KernelRequest {
  /** LayerNorm input [rows, cols] with weight and bias [cols]. */
  norm: { x: number[]; weight: number[]; bias: number[]; rows: number; cols: number };
  /** Exact GELU input. */
  gelu: number[];
  /** Logits for a greedy draw over ids below `vocab`. */
  sample: { logits: number[]; vocab: number };
  /** Fused q | k | v rows [tokens, 3·heads·headDim] for a causal prefill through the KV cache. */
  attention: { qkv: number[]; tokens: number; heads: number; headDim: number };
}

export interface KernelResult {
  inWorker: boolean;
  adapter: string;
  argmaxVariant: string;
  norm: number[];
  gelu: number[];
  token: number;
  attention: number[];
}

export interface KernelError {
  error: { name: string; message: string };
}

export async function runKernels(request: KernelRequest, inWorker: boolean): Promise<KernelResult | KernelError> {
  try {
    const handle = await requestBrowserDevice();
    const ctx = new GpuContext(handle);
    const { norm, gelu, sample } = request;

    const x = ctx.upload('norm x', Float32Array.from(norm.x));
    const normOut = ctx.createBuffer('norm y', norm.x.length * 4);
    const normDispatch = layerNormKernel(ctx, x, normOut, norm.rows, norm.cols, {
      weight: ctx.upload('norm weight', Float32Array.from(norm.weight)),
      bias: ctx.upload('norm bias', Float32Array.from(norm.bias)),
    });

    const geluIn = ctx.upload('gelu x', Float32Array.from(gelu));
    const geluOut = ctx.createBuffer('gelu y', gelu.length * 4);
    const geluDispatch = geluKernel(ctx, geluIn, geluOut, gelu.length, 'exact');

    const token = ctx.createBuffer('token', 4);
    const step = createStepBuffer(ctx, 'step', { position: 0, kvLength: 0, temperature: 0 });
    const sampleDispatch = sampleKernel(ctx, ctx.upload('logits', Float32Array.from(sample.logits)), token, step, { vocabSize: sample.vocab });

    const { attention } = request;
    const cache = createKvCache(ctx, { layers: 1, heads: attention.heads, headDim: attention.headDim, maxPositions: attention.tokens + 3 });
    const qkv = ctx.upload('qkv', Float32Array.from(attention.qkv));
    const attentionOut = ctx.createBuffer('attention out', (attention.qkv.length / 3) * 4);
    const attentionStep = createStepBuffer(ctx, 'attention step', { position: 0, kvLength: attention.tokens });
    const attentionDispatches = [
      kvWriteKernel(ctx, qkv, cache, 0, attentionStep, attention.tokens),
      cachedAttentionKernel(ctx, qkv, cache, 0, attentionOut, attentionStep, attention.tokens),
    ];

    ctx.run([normDispatch, geluDispatch, sampleDispatch, ...attentionDispatches]);
    const result: KernelResult = {
      inWorker,
      adapter: describeAdapter(handle.summary),
      argmaxVariant: selectArgmaxVariant(ctx),
      norm: Array.from(new Float32Array(await ctx.read(normOut))),
      gelu: Array.from(new Float32Array(await ctx.read(geluOut))),
      token: new Uint32Array(await ctx.read(token))[0],
      attention: Array.from(new Float32Array(await ctx.read(attentionOut))),
    };
    handle.device.destroy();
    return result;
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return { error: { name: e.name, message: e.message } };
  }
}
