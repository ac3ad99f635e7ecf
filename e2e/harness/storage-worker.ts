/**
 * The model worker's shell with a stand-in generation host that reads every tensor in shard
 * order and the tokenizer, as the model loader does, and reports the bytes read as `gpuBytes`.
 * The package tests use it so they exercise the download, cache and sources without a model.
 */
/// <reference lib="webworker" />
import type { GenerationHost } from '../../app/worker/generation.ts';
import type { WorkerEvent, WorkerRequest } from '../../app/worker/protocol.ts';
import { createWorkerShell } from '../../app/worker/shell.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (event: WorkerEvent) => scope.postMessage(event);

const readingHost: GenerationHost = {
  async load(source) {
    const names = Object.keys(source.manifest.tensors).sort((a, b) => {
      const x = source.manifest.tensors[a];
      const y = source.manifest.tensors[b];
      return x.shard - y.shard || x.offset - y.offset;
    });
    let gpuBytes = 0;
    for (const name of names) gpuBytes += (await source.readTensor(name)).byteLength;
    await source.readTokenizer();
    return { gpuBytes };
  },
  async generate(request) {
    post({ type: 'error', id: request.id, code: 'not-loaded', message: 'The test worker has no model.' });
  },
  abort() {},
  async unload() {},
};

const shell = createWorkerShell(post, readingHost);
scope.addEventListener('message', (event: MessageEvent<WorkerRequest>) => void shell.handle(event.data));
