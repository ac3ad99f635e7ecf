/**
 * Runs the model inside the worker: loads weights from a {@link TensorSource}, answers `generate`
 * requests with `token` and `done` events, and honours `abort`.
 *
 * TODO: placeholder until the model runtime lands. It reads nothing and reports `not-loaded`
 * for every generation request.
 */
import type { TensorSource } from '../checkpoint/manifest.ts';
import type { DeviceHandle } from '../engine/gpu/device.ts';
import type { WorkerEvent, WorkerRequest } from './protocol.ts';

export type GenerateRequest = Extract<WorkerRequest, { type: 'generate' }>;

export interface GenerationHost {
  /** Uploads the model from `source` to `device`; resolves with the bytes it placed on the GPU. */
  load(source: TensorSource, device: DeviceHandle): Promise<{ gpuBytes: number }>;
  /** Streams `token` events and one `done` event for the request through `post`. */
  generate(request: GenerateRequest): Promise<void>;
  abort(id: number): void;
  /** Releases every GPU buffer of the model. */
  unload(): Promise<void>;
}

export function createGenerationHost(post: (event: WorkerEvent) => void): GenerationHost {
  return {
    async load() {
      return { gpuBytes: 0 };
    },
    async generate(request) {
      post({ type: 'error', id: request.id, code: 'not-loaded', message: 'The model runtime is not built yet, so nothing can be generated.' });
    },
    abort() {},
    async unload() {},
  };
}
