/**
 * Request handling of the model worker, which owns the GPU device and the package cache.
 * It replies to `probe`. For `load`, it downloads, verifies and caches the package, then hands a
 * {@link TensorSource} to the generation host. It routes `generate` and `abort` to that host.
 * `worker.ts` wires it to the real model, and tests wire it to a host that only reads the tensors.
 */
import type { TensorSource } from '../checkpoint/manifest.ts';
import { describeAdapter, requestBrowserDevice, type DeviceHandle } from '../engine/gpu/device.ts';
import { CachedTensorSource, FileTensorSource, NetworkTensorSource } from './cached-source.ts';
import { downloadPackage, fetchManifest, resolvePackageUrl, type StoreOptions } from './download.ts';
import { convertDroppedCheckpoint, convertDroppedCheckpointToBlobs } from './convert-sink.ts';
import { classifyDrop, storeDroppedPackage, verifyDroppedPackage } from './dropped.ts';
import { BadPackageError, DownloadPausedError, errorCode, errorEvent, readStorageInfo } from './errors.ts';
import type { GenerationHost } from './generation.ts';
import { PackageStore } from './package-store.ts';
import type { ModelSource, WorkerEvent, WorkerRequest } from './protocol.ts';

type LoadRequest = Extract<WorkerRequest, { type: 'load' }>;

export interface WorkerShell {
  /** Handles one request; failures become `error` events, so it never rejects. */
  handle(request: WorkerRequest): Promise<void>;
}

/** Creates the request handler that posts its events through `post` and runs the model on `host`. */
export function createWorkerShell(post: (event: WorkerEvent) => void, host: GenerationHost): WorkerShell {
  let device: DeviceHandle | undefined;
  let store: PackageStore | undefined;
  let activeLoad: { id: number; controller: AbortController } | undefined;

  function postError(id: number | null, error: unknown): void {
    post(errorEvent(id, error));
  }

  async function openStore(): Promise<PackageStore> {
    store ??= await PackageStore.open();
    return store;
  }

  async function acquireDevice(): Promise<DeviceHandle> {
    if (device) return device;
    const handle = await requestBrowserDevice();
    device = handle;
    handle.lost.then(async (lost) => {
      if (device !== handle) return;
      device = undefined;
      await host.unload().catch(() => undefined);
      post({ type: 'device-lost', message: lost.message });
    });
    return handle;
  }

  /** Opens a {@link TensorSource} for `source`, downloading or storing it first when `cache` is set. */
  async function openSource(
    source: ModelSource,
    cache: boolean,
    options: Omit<StoreOptions, 'store'>,
  ): Promise<{ tensors: TensorSource; cacheKey?: string }> {
    switch (source.kind) {
      case 'cached': {
        const opened = await CachedTensorSource.open(await openStore(), source.key);
        return { tensors: opened, cacheKey: source.key };
      }
      case 'url': {
        if (cache) {
          const packageStore = await openStore();
          const { key } = await downloadPackage(source.url, { ...options, store: packageStore });
          return { tensors: await CachedTensorSource.open(packageStore, key), cacheKey: key };
        }
        const { manifestUrl, folderUrl } = resolvePackageUrl(source.url);
        const manifest = await fetchManifest(manifestUrl, options.signal);
        return { tensors: new NetworkTensorSource(manifest, folderUrl, options.signal) };
      }
      case 'files': {
        if (classifyDrop(source.files) === 'checkpoint') {
          if (!cache) {
            const { manifest, byName } = await convertDroppedCheckpointToBlobs(source.files, options.onProgress);
            return { tensors: new FileTensorSource(manifest, byName) };
          }
          const packageStore = await openStore();
          const { key } = await convertDroppedCheckpoint(source.files, packageStore, options.onProgress);
          return { tensors: await CachedTensorSource.open(packageStore, key), cacheKey: key };
        }
        if (cache) {
          const packageStore = await openStore();
          const { key } = await storeDroppedPackage(source.files, { ...options, store: packageStore });
          return { tensors: await CachedTensorSource.open(packageStore, key), cacheKey: key };
        }
        const { manifest, byName } = await verifyDroppedPackage(source.files, options.onProgress);
        return { tensors: new FileTensorSource(manifest, byName) };
      }
    }
  }

  async function load(request: LoadRequest): Promise<void> {
    if (activeLoad) activeLoad.controller.abort();
    const controller = new AbortController();
    activeLoad = { id: request.id, controller };
    try {
      const { tensors, cacheKey } = await openSource(request.source, request.cache, {
        signal: controller.signal,
        onProgress: (progress) => post({ type: 'load-progress', id: request.id, progress }),
      });
      const handle = await acquireDevice();
      await host.unload();
      const { gpuBytes } = await host.load(tensors, handle, (progress) => post({ type: 'load-progress', id: request.id, progress }));
      if (tensors instanceof NetworkTensorSource) await tensors.finish();

      const { manifest } = tensors;
      post({
        type: 'loaded',
        id: request.id,
        name: manifest.name,
        randomWeights: manifest.randomWeights ?? false,
        gpuBytes,
        storage: await readStorageInfo(),
        ...(cacheKey ? { cacheKey } : {}),
      });
    } catch (error) {
      if (error instanceof DownloadPausedError) post({ type: 'download-paused', id: request.id });
      else postError(request.id, error);
    } finally {
      if (activeLoad?.controller === controller) activeLoad = undefined;
    }
  }

  async function handle(request: WorkerRequest): Promise<void> {
    switch (request.type) {
      case 'probe': {
        try {
          const handle = await acquireDevice();
          post({ type: 'probe-result', id: request.id, adapter: handle.summary, description: describeAdapter(handle.summary) });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          post({ type: 'probe-result', id: request.id, adapter: null, description: message, error: { code: errorCode(error), message } });
        }
        return;
      }
      case 'load':
        return load(request);
      case 'pause-download': {
        activeLoad?.controller.abort();
        post({ type: 'download-paused', id: request.id });
        return;
      }
      case 'generate':
        return host.generate(request);
      case 'abort':
        host.abort(request.id);
        return;
      case 'unload': {
        activeLoad?.controller.abort();
        await host.unload();
        post({ type: 'unloaded', id: request.id });
        return;
      }
      case 'list-cache':
      case 'delete-cache': {
        const packageStore = await openStore();
        if (request.type === 'delete-cache') {
          const deleted = await packageStore.deletePackage(request.key);
          if (!deleted) throw new BadPackageError(`No cached model has the key ${request.key}. List the cache to see the stored models.`);
        }
        post({ type: 'cache-list', id: request.id, models: await packageStore.list(), storage: await readStorageInfo() });
        return;
      }
    }
  }

  return {
    handle: (request) => handle(request).catch((error) => postError(request.id, error)),
  };
}
