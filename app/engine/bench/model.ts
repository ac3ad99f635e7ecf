/**
 * `trit bench --model <package> [--dense] [--json]`: runs the model on the GPU and reports image
 * encoding time, prefill and decode speed, time to first token, GPU bytes, and the bandwidth
 * floor of decoding (weight bytes read per decoded token ÷ the adapter's measured copy bandwidth).
 *
 * Times are wall-clock around each request, as a user sees them: submission, the GPU work and the
 * one token id read back. The prompt is the photo's embeddings plus `--prompt-tokens` text ids;
 * decoding runs `--decode-tokens` greedy steps and reports the median step.
 */
import '../gpu/shaders.node.ts';
import { openPackage } from '../../checkpoint/package.node.ts';
import { GpuContext } from '../gpu/context.ts';
import { describeAdapter } from '../gpu/device.ts';
import { requestNodeDevice } from '../gpu/node.ts';
import { IMAGE_MARKER_ID } from '../model/config.ts';
import { createGpuRunner } from '../model/gpu-runner.ts';
import type { ModelWeights } from '../model/weights.ts';
import { benchCopy } from './kernels.ts';
import { median } from './timer.ts';

/** Weight bytes one decoded token reads: every block's linears and the whole embedding (the head). */
function bytesPerDecodedToken(weights: ModelWeights): number {
  let bytes = weights.embedding.reduce((n, c) => n + c.buffer.size, 0);
  for (const [name, t] of weights.tensors) if (name.startsWith('transformer.blocks.')) bytes += t.buffer.size;
  return bytes;
}

/** Settings of `trit bench --model`, checked by the command line. */
export interface ModelBenchOptions {
  /** Package folder or URL. */
  model: string;
  /** Hold the ternary layers as dense f16 matrices of the same values. */
  dense: boolean;
  json: boolean;
  /** Text tokens after the image in the prompt. */
  promptTokens: number;
  /** Greedy decoding steps timed. */
  decodeTokens: number;
  withImage: boolean;
}

export async function runModelBench(options: ModelBenchOptions): Promise<number> {
  const { promptTokens, decodeTokens, withImage } = options;
  const source = await openPackage(options.model);
  const ctx = new GpuContext(await requestNodeDevice());
  const log = (line: string) => {
    if (!options.json) console.log(line);
  };
  const runner = await createGpuRunner(ctx, source, { dense: options.dense, onWarning: (m) => console.error(`trit bench: ${m}`) });
  try {
    const { dims } = runner;
    // The copy kernel over 64 MiB, more than any GPU cache, timed as `trit bench --kernels` times it.
    const bandwidth = (await benchCopy(ctx, 64 * 2 ** 20, { runs: 5 })).GBps * 1e9;
    const perToken = bytesPerDecodedToken(runner.weights);
    log(`adapter: ${describeAdapter(ctx.handle.summary)}`);
    log(`weights: ${options.dense ? 'dense f16' : 'ternary'}; GPU bytes ${(runner.gpuBytes / 2 ** 20).toFixed(1)} MiB (weights ${(runner.weights.gpuBytes / 2 ** 20).toFixed(1)} MiB); ${(perToken / 2 ** 20).toFixed(1)} MiB read per decoded token`);

    // Image encoding: a random photo's worth of normalised pixels.
    let imageEncodeMs: number | null = null;
    let image;
    if (withImage) {
      const size = dims.vision.imageSize;
      const pixels = Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i * 0.37) * 1.5);
      const start = performance.now();
      image = await runner.encodeImage(pixels);
      imageEncodeMs = performance.now() - start;
      log(`image encoding: ${imageEncodeMs.toFixed(0)} ms (${dims.imageTokens} image tokens)`);
    }

    // Prefill: the image embeddings and promptTokens text ids, then the first token.
    const ids = Array.from({ length: promptTokens }, (_, i) => 100 + ((i * 7919) % 40000));
    const prompt = withImage ? [ids[0], IMAGE_MARKER_ID, ...ids.slice(1)] : ids;
    const positions = promptTokens + (withImage ? dims.imageTokens : 0);
    const greedy = { temperature: 0, topP: 1, seed: 0 };
    const prefillStart = performance.now();
    let { token } = await runner.step(prompt, image, greedy, 0);
    const prefillMs = performance.now() - prefillStart;
    const firstTokenMs = (imageEncodeMs ?? 0) + prefillMs;
    log(`prefill: ${positions} positions in ${prefillMs.toFixed(0)} ms → ${((positions * 1000) / prefillMs).toFixed(1)} tokens/s; first token after ${firstTokenMs.toFixed(0)} ms`);

    const stepsMs: number[] = [];
    for (let i = 1; i <= decodeTokens && runner.length < dims.llm.maxSequenceLength; i++) {
      const start = performance.now();
      ({ token } = await runner.step([token], image, greedy, i));
      stepsMs.push(performance.now() - start);
    }
    const decodeTokensPerS = 1000 / median(stepsMs);
    const floor = bandwidth / perToken;
    log(`decode: median ${median(stepsMs).toFixed(1)} ms a token over ${stepsMs.length} steps → ${decodeTokensPerS.toFixed(2)} tokens/s`);
    log(`copy bandwidth ${(bandwidth / 1e9).toFixed(2)} GB/s → decode floor ${floor.toFixed(2)} tokens/s`);
    image?.release();

    if (options.json) {
      console.log(
        JSON.stringify({
          adapter: describeAdapter(ctx.handle.summary),
          imageEncodeMs,
          prefillTokensPerS: (positions * 1000) / prefillMs,
          decodeTokensPerS,
          firstTokenMs,
          gpuBytes: runner.gpuBytes,
          floorDecodeTokensPerS: floor,
        }),
      );
    }
    return 0;
  } finally {
    runner.destroy();
  }
}
