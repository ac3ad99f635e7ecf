/**
 * The page's side of the model worker: one request per call, settled by the event that ends it.
 * Errors from the worker reject with `EngineError`, which keeps the protocol's code so the UI
 * can pick the help text.
 */
import type {
  CachedModel,
  ChatTurn,
  GenerationSettings,
  GenerationTimings,
  LoadProgress,
  ModelSource,
  StorageInfo,
  WorkerErrorCode,
  WorkerEvent,
  WorkerRequest,
} from '../worker/protocol.ts';
import type { AdapterSummary } from '../engine/gpu/device.ts';

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ProbeResult {
  adapter: AdapterSummary | null;
  description: string;
  error?: { code: WorkerErrorCode; message: string };
}

export interface LoadedModel {
  name: string;
  randomWeights: boolean;
  gpuBytes: number;
  storage: StorageInfo;
}

export type LoadOutcome = { kind: 'loaded'; model: LoadedModel } | { kind: 'paused' };

export interface GenerationDone {
  text: string;
  stopReason: 'eos' | 'stop_text' | 'max_tokens' | 'aborted';
  timings: GenerationTimings;
}

export interface GenerateRequest {
  turns: ChatTurn[];
  image?: Blob;
  settings: GenerationSettings;
  reset?: boolean;
}

type Body<R> = R extends { id: number } ? Omit<R, 'id'> : never;
type Handler = (event: WorkerEvent) => void;

export class Engine {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly handlers = new Map<number, Handler>();
  /** Called for errors that belong to no request and for a lost device. */
  onFatal: (code: WorkerErrorCode, message: string) => void = () => {};

  constructor() {
    this.worker = new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'trit-model' });
    this.worker.addEventListener('message', (message: MessageEvent<WorkerEvent>) => this.dispatch(message.data));
    this.worker.addEventListener('error', (event) => {
      const text = `The model worker failed to start or crashed (${event.message || 'no details'}). Reload the page.`;
      this.failAll('internal', text);
    });
  }

  private dispatch(event: WorkerEvent): void {
    if (event.type === 'device-lost') {
      this.failAll('device-lost', event.message);
      return;
    }
    if (event.type === 'error' && event.id === null) {
      this.onFatal(event.code, event.message);
      return;
    }
    if (event.id !== null) this.handlers.get(event.id)?.(event);
  }

  private failAll(code: WorkerErrorCode, message: string): void {
    for (const [id, handler] of this.handlers) handler({ type: 'error', id, code, message });
    this.onFatal(code, message);
  }

  private send(body: Body<WorkerRequest>, handler: Handler): number {
    const id = this.nextId++;
    this.handlers.set(id, handler);
    this.worker.postMessage({ ...body, id } as WorkerRequest);
    return id;
  }

  /** Sends `body` and settles with what `finish` returns for the event that ends the request. */
  private request<T>(body: Body<WorkerRequest>, finish: (event: WorkerEvent) => T | undefined, onEvent?: Handler): { id: number; result: Promise<T> } {
    let id = 0;
    const result = new Promise<T>((resolve, reject) => {
      id = this.send(body, (event) => {
        if (event.type === 'error') {
          this.handlers.delete(id);
          reject(new EngineError(event.code, event.message));
          return;
        }
        const value = finish(event);
        if (value !== undefined) {
          this.handlers.delete(id);
          resolve(value);
          return;
        }
        onEvent?.(event);
      });
    });
    return { id, result };
  }

  probe(): Promise<ProbeResult> {
    return this.request({ type: 'probe' }, (event) =>
      event.type === 'probe-result' ? { adapter: event.adapter, description: event.description, error: event.error } : undefined,
    ).result;
  }

  /** Loads a model; settles with `paused` when `pauseDownload` stops the download first. */
  load(source: ModelSource, cache: boolean, onProgress: (progress: LoadProgress) => void): Promise<LoadOutcome> {
    return this.request<LoadOutcome>(
      { type: 'load', source, cache },
      (event) => {
        if (event.type === 'loaded') {
          const model = { name: event.name, randomWeights: event.randomWeights, gpuBytes: event.gpuBytes, storage: event.storage };
          return { kind: 'loaded', model };
        }
        if (event.type === 'download-paused') return { kind: 'paused' };
        return undefined;
      },
      (event) => {
        if (event.type === 'load-progress') onProgress(event.progress);
      },
    ).result;
  }

  /**
   * Asks the worker to stop the download in progress; the chunks stored so far stay, so a later
   * `load` of the same package resumes.
   */
  pauseDownload(): void {
    const id = this.send({ type: 'pause-download' }, () => this.handlers.delete(id));
  }

  /** Starts an answer; `onToken` sees each piece of text as it is decoded. */
  generate(request: GenerateRequest, onToken: (text: string, tokenCount: number, tokensPerS: number) => void): { id: number; done: Promise<GenerationDone> } {
    const { id, result } = this.request<GenerationDone>(
      { type: 'generate', ...request },
      (event) => (event.type === 'done' ? { text: event.text, stopReason: event.stopReason, timings: event.timings } : undefined),
      (event) => {
        if (event.type === 'token') onToken(event.text, event.tokenCount, event.tokensPerS);
      },
    );
    return { id, done: result };
  }

  /** Stops generation request `id`; its promise settles with stop reason `aborted`. */
  abort(id: number): void {
    this.worker.postMessage({ type: 'abort', id } satisfies WorkerRequest);
  }

  listCache(): Promise<{ models: CachedModel[]; storage: StorageInfo }> {
    return this.request({ type: 'list-cache' }, (event) =>
      event.type === 'cache-list' ? { models: event.models, storage: event.storage } : undefined,
    ).result;
  }

  deleteCache(key: string): Promise<{ models: CachedModel[]; storage: StorageInfo }> {
    return this.request({ type: 'delete-cache', key }, (event) =>
      event.type === 'cache-list' ? { models: event.models, storage: event.storage } : undefined,
    ).result;
  }
}
