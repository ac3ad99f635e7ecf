/**
 * The app's state and the actions that change it. Components read slices with `useApp` and
 * call the actions; only this file sends requests to the model worker.
 */
import { create } from 'zustand';
import { CHAT_DEFAULTS } from '../worker/protocol.ts';
import type { CachedModel, ChatTurn, GenerationSettings, GenerationTimings, LoadProgress, ModelSource, StorageInfo, WorkerErrorCode } from '../worker/protocol.ts';
import type { AdapterSummary } from '../engine/gpu/device.ts';
import { TritClient, WorkerRequestError } from '../worker/client.ts';
import { DEFAULT_MODEL_URL, STORAGE_KEYS } from './config.ts';
import { checkPhoto, PhotoError } from './files.ts';
import { DecodeRate } from './format.ts';

export type GpuState =
  | { status: 'checking' }
  | { status: 'ready'; adapter: AdapterSummary; description: string }
  | { status: 'unavailable'; code: WorkerErrorCode; message: string };

export type ModelState =
  | { status: 'none' }
  | { status: 'loading'; label: string; progress?: LoadProgress; pausing?: boolean }
  | { status: 'paused'; label: string; progress?: LoadProgress }
  | { status: 'ready'; name: string; randomWeights: boolean; gpuBytes: number }
  | { status: 'error'; code: WorkerErrorCode; message: string; retry: ModelSource };

export interface Photo {
  file: File;
  /** Object URL for the thumbnail. */
  url: string;
  width: number;
  height: number;
}

export interface Message {
  id: number;
  role: 'user' | 'assistant';
  text: string;
  /** Assistant messages only. */
  state?: 'streaming' | 'done' | 'stopped' | 'error';
  tokenCount?: number;
  tokensPerS?: number;
  /** Set once the answer has finished. */
  timings?: GenerationTimings;
  error?: string;
}

/** A message shown near the control it concerns, e.g. a rejected photo. */
export interface Notice {
  kind: 'error' | 'info';
  text: string;
}

export interface AppState {
  gpu: GpuState;
  model: ModelState;
  cached: CachedModel[];
  storage: StorageInfo;
  modelUrl: string;
  useCache: boolean;
  photo: Photo | null;
  photoNotice: Notice | null;
  messages: Message[];
  /** Id of the generation request in flight. */
  generating: number | null;
  settings: GenerationSettings;
  online: boolean;
  /** An error that belongs to no single control (the worker crashed, the device was lost). */
  fatal: string | null;

  start(): Promise<void>;
  setModelUrl(url: string): void;
  setUseCache(value: boolean): void;
  loadFromUrl(url?: string): Promise<void>;
  loadFromFiles(files: File[]): Promise<void>;
  loadCached(key: string): Promise<void>;
  retryLoad(): Promise<void>;
  pauseDownload(): void;
  resumeDownload(): Promise<void>;
  deleteCached(key: string): Promise<void>;
  setPhoto(file: File): Promise<void>;
  removePhoto(): void;
  dismissPhotoNotice(): void;
  ask(question: string): Promise<void>;
  stop(): void;
  newConversation(): void;
  setSettings(settings: Partial<GenerationSettings>): void;
  resetSettings(): void;
  setOnline(online: boolean): void;
  dismissFatal(): void;
}

/** The model last loaded or being downloaded, remembered across reloads. */
interface LastModel {
  source: { kind: 'url'; url: string } | { kind: 'cached'; key: string };
  /** The worker's cache key for it, known once it has loaded. */
  cacheKey?: string;
  complete: boolean;
}

function readJson<T>(key: string): T | null {
  try {
    const text = localStorage.getItem(key);
    return text ? (JSON.parse(text) as T) : null;
  } catch {
    return null;
  }
}

function writeJson(key: string, value: unknown): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage is disabled (some private windows): the app works, but keeps nothing across reloads.
  }
}

/** Resolves a package URL typed in the panel against the page, so "models/demo/" works anywhere the app is served. */
export function resolveModelUrl(url: string): string {
  const trimmed = url.trim();
  const withSlash = /\.json$/i.test(trimmed) || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
  return new URL(withSlash, document.baseURI).href;
}

function sourceLabel(source: ModelSource): string {
  if (source.kind === 'url') return source.url;
  if (source.kind === 'cached') return source.key;
  return source.files.length === 1 ? source.files[0].name : `${source.files.length} files`;
}

let client: TritClient | null = null;
let messageId = 1;
/** True once the worker has encoded this conversation's photo, i.e. its first answer finished. */
let conversationStarted = false;
let lastSource: ModelSource | null = null;
let started = false;

function getClient(): TritClient {
  client ??= new TritClient();
  return client;
}

export const useApp = create<AppState>()((set, get) => {
  async function refreshCache(): Promise<void> {
    try {
      const { models, storage } = await getClient().listCache();
      set({ cached: models, storage: await withEstimate(storage) });
    } catch (error) {
      set({ storage: await withEstimate({}) });
      console.warn('Listing cached models failed:', error);
    }
  }

  async function load(source: ModelSource, cache: boolean): Promise<void> {
    lastSource = source;
    const label = sourceLabel(source);
    set({ model: { status: 'loading', label } });
    if (source.kind === 'url') writeJson(STORAGE_KEYS.lastModel, { source, complete: false } satisfies LastModel);
    try {
      const result = await getClient().load(source, {
        cache,
        onProgress: (progress) => {
          const model = get().model;
          if (model.status === 'loading') set({ model: { ...model, progress } });
        },
      });
      if (result.type === 'download-paused') {
        const model = get().model;
        set({ model: { status: 'paused', label, progress: model.status === 'loading' ? model.progress : undefined } });
      } else {
        const { name, randomWeights, gpuBytes, cacheKey } = result;
        // The worker dropped the old model and its conversation state, so the page drops the messages too.
        set({ model: { status: 'ready', name, randomWeights, gpuBytes }, messages: [] });
        if (source.kind !== 'files' || cacheKey) {
          const remembered: LastModel = { source: cacheKey ? { kind: 'cached', key: cacheKey } : (source as LastModel['source']), cacheKey, complete: true };
          writeJson(STORAGE_KEYS.lastModel, remembered);
        }
        conversationStarted = false;
      }
    } catch (error) {
      const { code, message } = describeError(error);
      set({ model: { status: 'error', code, message, retry: source } });
    }
    await refreshCache();
  }

  const storedSettings = readJson<GenerationSettings>(STORAGE_KEYS.settings);

  return {
    gpu: { status: 'checking' },
    model: { status: 'none' },
    cached: [],
    storage: {},
    modelUrl: localStorage.getItem(STORAGE_KEYS.modelUrl) ?? DEFAULT_MODEL_URL,
    useCache: true,
    photo: null,
    photoNotice: null,
    messages: [],
    generating: null,
    settings: { ...CHAT_DEFAULTS, ...storedSettings },
    online: navigator.onLine,
    fatal: null,

    async start() {
      // React's StrictMode runs effects twice in development; one start is enough.
      if (started) return;
      started = true;
      const current = getClient();
      current.onDeviceLost = (message) => set({ fatal: message, model: { status: 'none' }, generating: null });
      current.onUnhandledError = (error) => set({ fatal: error.message });
      try {
        const probe = await current.probe();
        if (probe.adapter && !probe.error) {
          set({ gpu: { status: 'ready', adapter: probe.adapter, description: probe.description } });
        } else {
          const code = probe.error?.code ?? 'no-adapter';
          set({ gpu: { status: 'unavailable', code, message: probe.error?.message ?? probe.description } });
          return;
        }
      } catch (error) {
        const { code, message } = describeError(error);
        set({ gpu: { status: 'unavailable', code, message } });
        return;
      }

      await refreshCache();
      // Bring back the last model: from the cache when it finished, or offer to resume its download.
      const last = readJson<LastModel>(STORAGE_KEYS.lastModel);
      if (!last) return;
      const cached = get().cached;
      if (last.complete && cached.some((model) => model.key === last.cacheKey && model.complete)) {
        await load({ kind: 'cached', key: last.cacheKey! }, true);
      } else if (!last.complete && last.source.kind === 'url' && cached.some((model) => !model.complete)) {
        lastSource = last.source;
        set({ model: { status: 'paused', label: last.source.url } });
      }
    },

    setModelUrl(url) {
      set({ modelUrl: url });
      try {
        localStorage.setItem(STORAGE_KEYS.modelUrl, url);
      } catch {
        // Not kept across reloads; see writeJson.
      }
    },

    setUseCache(value) {
      set({ useCache: value });
    },

    async loadFromUrl(url) {
      const target = (url ?? get().modelUrl).trim();
      if (!target) return;
      await load({ kind: 'url', url: resolveModelUrl(target) }, get().useCache);
    },

    async loadFromFiles(files) {
      await load({ kind: 'files', files }, get().useCache);
    },

    async loadCached(key) {
      await load({ kind: 'cached', key }, true);
    },

    async retryLoad() {
      const model = get().model;
      if (model.status === 'error') await load(model.retry, get().useCache);
    },

    pauseDownload() {
      const model = get().model;
      if (model.status !== 'loading') return;
      set({ model: { ...model, pausing: true } });
      void getClient().pauseDownload();
    },

    async resumeDownload() {
      if (lastSource) await load(lastSource, get().useCache);
    },

    async deleteCached(key) {
      try {
        const { models, storage } = await getClient().deleteCache(key);
        set({ cached: models, storage: await withEstimate(storage) });
      } catch (error) {
        set({ fatal: describeError(error).message });
      }
      const last = readJson<LastModel>(STORAGE_KEYS.lastModel);
      if (last && !get().cached.some((model) => model.complete)) writeJson(STORAGE_KEYS.lastModel, null);
      if (get().model.status === 'paused' && !get().cached.some((model) => model.key === key)) set({ model: { status: 'none' } });
    },

    async setPhoto(file) {
      if (get().generating !== null) {
        set({ photoNotice: { kind: 'error', text: 'Wait for the answer to finish (or stop it) before changing the photo.' } });
        return;
      }
      try {
        const checked = await checkPhoto(file);
        const previous = get().photo;
        if (previous) URL.revokeObjectURL(previous.url);
        const photo = { ...checked, url: URL.createObjectURL(file) };
        const hadConversation = get().messages.length > 0;
        set({
          photo,
          photoNotice: hadConversation ? { kind: 'info', text: 'New photo: a new conversation has started.' } : null,
          messages: hadConversation ? [] : get().messages,
        });
        conversationStarted = false;
      } catch (error) {
        const text = error instanceof PhotoError ? error.message : `"${file.name}" could not be read: ${String(error)}`;
        set({ photoNotice: { kind: 'error', text } });
      }
    },

    removePhoto() {
      const previous = get().photo;
      if (!previous || get().generating !== null) return;
      URL.revokeObjectURL(previous.url);
      const hadConversation = get().messages.length > 0;
      set({
        photo: null,
        messages: [],
        photoNotice: hadConversation ? { kind: 'info', text: 'Photo removed: a new conversation has started.' } : null,
      });
      conversationStarted = false;
    },

    dismissPhotoNotice() {
      set({ photoNotice: null });
    },

    async ask(question) {
      const text = question.trim();
      const { model, generating, settings, photo } = get();
      if (!text || model.status !== 'ready' || generating !== null) return;

      const turns: ChatTurn[] = [];
      let pending: string | null = null;
      for (const message of get().messages) {
        if (message.role === 'user') pending = message.text;
        else if (pending !== null && message.state !== 'error') {
          turns.push({ question: pending, answer: message.text });
          pending = null;
        } else pending = null;
      }
      const reset = !conversationStarted;
      if (reset) turns.length = 0;
      turns.push({ question: text });

      const userMessage: Message = { id: messageId++, role: 'user', text };
      const answerId = messageId++;
      const answer: Message = { id: answerId, role: 'assistant', text: '', state: 'streaming', tokenCount: 0 };
      set({ messages: [...get().messages, userMessage, answer], photoNotice: null });

      const update = (change: Partial<Message>) =>
        set({ messages: get().messages.map((message) => (message.id === answerId ? { ...message, ...change } : message)) });

      const { id, events } = getClient().generate({ turns, image: reset ? photo?.file : undefined, settings, reset });
      set({ generating: id });
      const rate = new DecodeRate();
      try {
        for await (const event of events) {
          if (event.type === 'token') {
            const current = get().messages.find((message) => message.id === answerId);
            update({ text: (current?.text ?? '') + event.text, tokenCount: event.tokenCount, tokensPerS: rate.add(event.tokenCount, performance.now()) });
            continue;
          }
          update({
            text: event.text,
            state: event.stopReason === 'aborted' ? 'stopped' : 'done',
            tokenCount: event.timings.generatedTokens,
            tokensPerS: event.timings.decodeTokensPerS,
            timings: event.timings,
          });
        }
        conversationStarted = true;
      } catch (error) {
        update({ state: 'error', error: describeError(error).message });
      } finally {
        set({ generating: null });
      }
    },

    stop() {
      const id = get().generating;
      if (id !== null) getClient().abort(id);
    },

    newConversation() {
      if (get().generating !== null) return;
      set({ messages: [], photoNotice: null });
      conversationStarted = false;
    },

    setSettings(change) {
      const settings = { ...get().settings, ...change };
      set({ settings });
      writeJson(STORAGE_KEYS.settings, settings);
    },

    resetSettings() {
      set({ settings: { ...CHAT_DEFAULTS } });
      writeJson(STORAGE_KEYS.settings, null);
    },

    setOnline(online) {
      set({ online });
    },

    dismissFatal() {
      set({ fatal: null });
    },
  };
});

function describeError(error: unknown): { code: WorkerErrorCode; message: string } {
  if (error instanceof WorkerRequestError) return { code: error.code, message: error.message };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}

/** Fills in usage and quota from the page's own estimate where the worker sent none. */
async function withEstimate(storage: StorageInfo): Promise<StorageInfo> {
  if (storage.usage !== undefined && storage.quota !== undefined) return storage;
  try {
    const estimate = await navigator.storage?.estimate();
    return { ...storage, usage: storage.usage ?? estimate?.usage, quota: storage.quota ?? estimate?.quota };
  } catch {
    return storage;
  }
}
