/**
 * `trit bench --model <package> [--dense] [--json]`: loads the package on the GPU and reports its
 * GPU bytes and the bandwidth floor of decoding (bytes read per decoded token ÷ the adapter's
 * measured copy bandwidth).
 * TODO: image encoding, prefill, decode and first-token timings need the GPU forward pass, which
 * waits on the kernels listed in app/engine/model/gpu-runner.ts; until then they print as null.
 */
import { parseArgs } from 'node:util';
import '../gpu/shaders.node.ts';
import { GpuContext } from '../gpu/context.ts';
import { describeAdapter } from '../gpu/device.ts';
import { requestNodeDevice } from '../gpu/node.ts';
import { copyKernel } from '../kernels/copy.ts';
import { openPackage } from '../../checkpoint/package.node.ts';
import { resolveDims } from '../model/config.ts';
import { loadWeights, type ModelWeights } from '../model/weights.ts';

/** Median bytes a second of the copy kernel over a `bytes`-sized buffer (read + write counted). */
async function copyBandwidth(ctx: GpuContext, bytes = 64 * 2 ** 20, runs = 5): Promise<number> {
  const src = ctx.createBuffer('bench copy src', bytes);
  const dst = ctx.createBuffer('bench copy dst', bytes);
  const dispatch = copyKernel(ctx, src, dst, bytes);
  const rates: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const start = performance.now();
    ctx.run([dispatch]);
    await ctx.device.queue.onSubmittedWorkDone();
    // NOTE: wall-clock time, submission overhead included; the first run (pipeline warm-up) is dropped.
    if (i > 0) rates.push((2 * bytes) / ((performance.now() - start) / 1000));
  }
  src.destroy();
  dst.destroy();
  return rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)];
}

/** Weight bytes one decoded token reads: every block's linears and the whole embedding (the head). */
function bytesPerDecodedToken(weights: ModelWeights): number {
  let bytes = weights.embedding.reduce((n, c) => n + c.buffer.size, 0);
  for (const [name, t] of weights.tensors) if (name.startsWith('transformer.blocks.')) bytes += t.buffer.size;
  return bytes;
}

export async function runModelBench(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { model: { type: 'string' }, dense: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
  if (!values.model) throw new Error('--model is required: pass the folder that `trit convert` wrote.');
  const source = await openPackage(values.model);
  const dims = resolveDims(source.manifest);
  const ctx = new GpuContext(await requestNodeDevice());
  const weights = await loadWeights(ctx, source, dims, { dense: values.dense });
  try {
    const bandwidth = await copyBandwidth(ctx);
    const perToken = bytesPerDecodedToken(weights);
    const result = {
      adapter: describeAdapter(ctx.handle.summary),
      imageEncodeMs: null,
      prefillTokensPerS: null,
      decodeTokensPerS: null,
      firstTokenMs: null,
      gpuBytes: weights.gpuBytes,
      floorDecodeTokensPerS: bandwidth / perToken,
    };
    if (values.json) console.log(JSON.stringify(result));
    else {
      console.log(`adapter: ${result.adapter}`);
      console.log(`weights: ${values.dense ? 'dense f16' : 'ternary'}, GPU bytes ${(result.gpuBytes / 2 ** 20).toFixed(1)} MiB, ${(perToken / 2 ** 20).toFixed(1)} MiB read per decoded token`);
      console.log(`copy bandwidth ${(bandwidth / 1e9).toFixed(2)} GB/s → decode floor ${result.floorDecodeTokensPerS.toFixed(2)} tokens/s`);
      console.log('image encoding, prefill and decode timings: not measured (the GPU forward pass is not built yet)');
    }
    return 0;
  } finally {
    weights.destroy();
  }
}
