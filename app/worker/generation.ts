/**
 * Runs the model inside the worker. It loads weights from a {@link TensorSource}, streams
 * `token` events and a `done` event for each `generate` request, and honours `abort`.
 * One request runs at a time, and the KV cache and the encoded photo carry over between the
 * requests of one conversation.
 */
import type { TensorSource } from '../checkpoint/manifest.ts';
// The worker runs the model's kernels: register the WGSL sources Vite bundles.
import '../engine/gpu/shaders.browser.ts';
import { GpuContext } from '../engine/gpu/context.ts';
import type { DeviceHandle } from '../engine/gpu/device.ts';
import { createCodec } from '../engine/model/codec.ts';
import { Generator } from '../engine/model/generator.ts';
import { resolveDims } from '../engine/model/config.ts';
import { createGpuRunner, type GpuRunnerOptions } from '../engine/model/gpu-runner.ts';
import type { ModelRunner } from '../engine/model/runner.ts';
import { requiredTensors } from '../engine/model/weights.ts';
import { tokenizePrompt } from '../tokenizer/prompt.ts';
import { errorEvent } from './errors.ts';
import type { LoadProgress, WorkerEvent, WorkerRequest } from './protocol.ts';

export type GenerateRequest = Extract<WorkerRequest, { type: 'generate' }>;

export interface GenerationHost {
  /**
   * Uploads the model from `source` to `device`, reporting `upload` progress after each tensor;
   * resolves with the bytes it placed on the GPU.
   */
  load(source: TensorSource, device: DeviceHandle, onProgress?: (progress: LoadProgress) => void): Promise<{ gpuBytes: number }>;
  /** Streams `token` events and one `done` event for the request through `post`. */
  generate(request: GenerateRequest): Promise<void>;
  abort(id: number): void;
  /** Releases every GPU buffer of the model. */
  unload(): Promise<void>;
}

interface Loaded {
  source: TensorSource;
  generator: Generator;
  destroy(): void;
}

/** Builds the runner for a loaded package; tests pass the CPU reference's. */
export type RunnerFactory = (ctx: GpuContext, source: TensorSource, options?: GpuRunnerOptions) => Promise<ModelRunner & { gpuBytes: number }>;

export function createGenerationHost(post: (event: WorkerEvent) => void, createRunner: RunnerFactory = createGpuRunner): GenerationHost {
  let loaded: Loaded | undefined;
  const running = new Map<number, AbortController>();

  async function unload(): Promise<void> {
    for (const controller of running.values()) controller.abort();
    loaded?.destroy();
    loaded = undefined;
  }

  return {
    async load(source, device, onProgress) {
      await unload();
      const ctx = new GpuContext(device);
      const { manifest } = source;
      const bytesTotal = requiredTensors(resolveDims(manifest), manifest).reduce((n, name) => n + manifest.tensors[name].bytes, 0);
      const start = performance.now();
      const runner = await createRunner(ctx, source, {
        onProgress: (done) => {
          const seconds = (performance.now() - start) / 1000;
          onProgress?.({ phase: 'upload', bytesDone: done.bytes, bytesTotal, bytesPerSecond: seconds > 0 ? done.bytes / seconds : 0 });
        },
      });
      const codec = createCodec(await source.readTokenizer());
      loaded = { source, generator: new Generator(runner, codec), destroy: () => runner.destroy() };
      // A lost device makes every buffer invalid: stop what runs and drop the model. The worker
      // shell posts the `device-lost` event.
      device.lost.then(() => {
        if (loaded?.source === source) void unload();
      });
      return { gpuBytes: runner.gpuBytes };
    },

    async generate(request) {
      if (!loaded) {
        post({ type: 'error', id: request.id, code: 'not-loaded', message: 'No model is loaded; load a model before asking a question.' });
        return;
      }
      const { generator, source } = loaded;
      const { manifest } = source;
      const controller = new AbortController();
      running.set(request.id, controller);
      try {
        if (request.reset) generator.reset();
        let imageEncodeMs = 0;
        if (request.image) {
          const image = request.image;
          const { preprocessImage } = await import('../image/preprocess.browser.ts');
          imageEncodeMs = await generator.setImage(image, () => preprocessImage(image, manifest.model.image, 'the photo'));
        }
        const template = manifest.chatTemplate;
        const hasImage = request.image !== undefined || (!request.reset && generator.hasImage);
        const { ids } = tokenizePrompt(generator.codec, template, request.turns, hasImage);
        const start = performance.now();
        const result = await generator.generate(
          ids,
          {
            sampling: { temperature: request.settings.temperature, topP: request.settings.topP, seed: request.settings.seed ?? (Math.random() * 2 ** 32) >>> 0 },
            maxNewTokens: request.settings.maxNewTokens,
            stopText: template.stopText,
            signal: controller.signal,
            onText: (text, tokenCount) => {
              const seconds = (performance.now() - start) / 1000;
              post({ type: 'token', id: request.id, text, tokenCount, tokensPerS: seconds > 0 ? tokenCount / seconds : 0 });
            },
          },
          imageEncodeMs,
        );
        const t = result.timings;
        post({
          type: 'done',
          id: request.id,
          text: result.text,
          stopReason: result.stopReason,
          timings: {
            imageEncodeMs: t.imageEncodeMs,
            prefillMs: t.prefillMs,
            decodeMs: t.decodeMs,
            promptTokens: t.promptTokens,
            generatedTokens: t.generatedTokens,
            decodeTokensPerS: t.decodeTokensPerS,
          },
        });
      } catch (error) {
        post(errorEvent(request.id, error));
      } finally {
        running.delete(request.id);
      }
    },

    abort(id) {
      running.get(id)?.abort();
    },

    unload,
  };
}
