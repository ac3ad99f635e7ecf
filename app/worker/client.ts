/**
 * Typed page-side wrapper of the model worker: each method posts one request and returns a
 * promise (or, for `generate`, an async iterator) of that request's events.
 */
import type { AdapterSummary } from '../engine/gpu/device.ts';
import type {
  CachedModel,
  LoadProgress,
  ModelSource,
  StorageInfo,
  WorkerErrorCode,
  WorkerEvent,
  WorkerRequest,
} from './protocol.ts';

type EventOf<T extends WorkerEvent['type']> = Extract<WorkerEvent, { type: T }>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
export type GenerateOptions = Omit<Extract<WorkerRequest, { type: 'generate' }>, 'type' | 'id'>;
export type GenerationEvent = EventOf<'token'> | EventOf<'done'>;
export type LoadResult = EventOf<'loaded'> | EventOf<'download-paused'>;

/** Error of a request that the worker ended with an `error` event. */
export class WorkerRequestError extends Error {
  override name = 'WorkerRequestError';
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
    readonly storage?: StorageInfo,
  ) {
    super(message);
  }
}

/**
 * Asks the browser to keep this site's storage under storage pressure, so a cached model is not
 * evicted. `persist()` exists only in pages, not in workers, so the client calls it.
 */
export async function requestPersistentStorage(): Promise<boolean> {
  const storage = globalThis.navigator?.storage;
  if (!storage?.persist) return false;
  try {
    return (await storage.persisted()) || (await storage.persist());
  } catch {
    return false;
  }
}

export function createModelWorker(): Worker {
  return new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'trit-model' });
}

export class TritClient {
  private nextId = 1;
  private readonly listeners = new Map<number, (event: WorkerEvent) => void>();
  /** Called when the GPU device is lost; the model must be loaded again. */
  onDeviceLost: ((message: string) => void) | undefined;
  /** Called for worker errors that belong to no request. */
  onUnhandledError: ((error: WorkerRequestError) => void) | undefined;

  constructor(private readonly worker: Worker = createModelWorker()) {
    worker.addEventListener('message', (event: MessageEvent<WorkerEvent>) => this.dispatch(event.data));
    worker.addEventListener('error', (event) => {
      this.onUnhandledError?.(new WorkerRequestError('internal', `The model worker failed: ${event.message}`));
    });
  }

  private dispatch(event: WorkerEvent): void {
    if (event.type === 'device-lost') {
      this.onDeviceLost?.(event.message);
      return;
    }
    if (event.id === null) {
      if (event.type === 'error') this.onUnhandledError?.(new WorkerRequestError(event.code, event.message, event.storage));
      return;
    }
    this.listeners.get(event.id)?.(event);
  }

  /** Posts `request` with a fresh id and passes every event of that id to `listen` until it returns true. */
  private send(request: WithoutId<WorkerRequest>, listen: (event: WorkerEvent) => boolean): number {
    const id = this.nextId++;
    this.listeners.set(id, (event) => {
      if (listen(event)) this.listeners.delete(id);
    });
    this.worker.postMessage({ ...request, id } as WorkerRequest);
    return id;
  }

  /** Posts `request` and resolves with its first event of type `type`, rejecting on an `error` event. */
  private call<T extends WorkerEvent['type']>(request: WithoutId<WorkerRequest>, type: T): Promise<EventOf<T>> {
    return new Promise((resolve, reject) => {
      this.send(request, (event) => {
        if (event.type === 'error') {
          reject(new WorkerRequestError(event.code, event.message, event.storage));
          return true;
        }
        if (event.type !== type) return false;
        resolve(event as EventOf<T>);
        return true;
      });
    });
  }

  probe(): Promise<{ adapter: AdapterSummary | null; description: string; error?: { code: WorkerErrorCode; message: string } }> {
    return this.call({ type: 'probe' }, 'probe-result');
  }

  /**
   * Loads a model, reporting download, verification and upload progress. Resolves with `loaded`,
   * or with `download-paused` after {@link pauseDownload}; calling `load` again resumes.
   */
  async load(source: ModelSource, options: { cache?: boolean; onProgress?: (progress: LoadProgress) => void } = {}): Promise<LoadResult> {
    const cache = options.cache ?? true;
    if (cache) await requestPersistentStorage();
    return new Promise((resolve, reject) => {
      this.send({ type: 'load', source, cache }, (event) => {
        switch (event.type) {
          case 'load-progress':
            options.onProgress?.(event.progress);
            return false;
          case 'loaded':
          case 'download-paused':
            resolve(event);
            return true;
          case 'error':
            reject(new WorkerRequestError(event.code, event.message, event.storage));
            return true;
          default:
            return false;
        }
      });
    });
  }

  /** Pauses the running download; its `load` promise resolves with `download-paused`. */
  async pauseDownload(): Promise<void> {
    await this.call({ type: 'pause-download' }, 'download-paused');
  }

  /**
   * Starts a generation and returns its id (for {@link abort}) and its events: `token` events,
   * then one `done`. Iterating throws {@link WorkerRequestError} when the worker reports an error.
   */
  generate(options: GenerateOptions): { id: number; events: AsyncIterable<GenerationEvent> } {
    const queue: (GenerationEvent | WorkerRequestError)[] = [];
    let wake: (() => void) | undefined;
    const id = this.send({ type: 'generate', ...options }, (event) => {
      if (event.type === 'token' || event.type === 'done') queue.push(event);
      else if (event.type === 'error') queue.push(new WorkerRequestError(event.code, event.message, event.storage));
      else return false;
      wake?.();
      return event.type !== 'token';
    });
    const events = async function* (): AsyncGenerator<GenerationEvent> {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        const next = queue.shift()!;
        if (next instanceof WorkerRequestError) throw next;
        yield next;
        if (next.type === 'done') return;
      }
    };
    return { id, events: events() };
  }

  /** Stops generation `id`; its events end with `done` and stop reason `aborted`. */
  abort(id: number): void {
    this.worker.postMessage({ type: 'abort', id } satisfies WorkerRequest);
  }

  async unload(): Promise<void> {
    await this.call({ type: 'unload' }, 'unloaded');
  }

  /** Lists cached models with their stored bytes and completeness, and the storage figures. */
  async listCache(): Promise<{ models: CachedModel[]; storage: StorageInfo }> {
    const { models, storage } = await this.call({ type: 'list-cache' }, 'cache-list');
    return { models, storage };
  }

  /** Deletes a cached model and resolves with the list that remains. */
  async deleteCache(key: string): Promise<{ models: CachedModel[]; storage: StorageInfo }> {
    const { models, storage } = await this.call({ type: 'delete-cache', key }, 'cache-list');
    return { models, storage };
  }

  terminate(): void {
    this.worker.terminate();
    this.listeners.clear();
  }
}
