/**
 * Messages between the page and the model worker. The worker owns the GPU device and the model;
 * every request carries an `id` that its events repeat.
 */
import type { AdapterSummary } from '../engine/gpu/device.ts';

export interface GenerationSettings {
  /** 0 means greedy. */
  temperature: number;
  topP: number;
  maxNewTokens: number;
  seed?: number;
}

/** LLaVA demo defaults for chat. */
export const CHAT_DEFAULTS: GenerationSettings = { temperature: 0.2, topP: 0.7, maxNewTokens: 512 };

export interface ChatTurn {
  question: string;
  /** Present for finished turns; the last turn of a request has none. */
  answer?: string;
}

export type ModelSource =
  | { kind: 'url'; url: string }
  /** A package folder or a checkpoint (`.bin` or safetensors plus `config.json`) dropped onto the page. */
  | { kind: 'files'; files: File[] }
  /** A package already in IndexedDB, by its cache key. */
  | { kind: 'cached'; key: string };

export type WorkerRequest =
  | { type: 'probe'; id: number }
  | { type: 'load'; id: number; source: ModelSource; cache: boolean }
  | { type: 'pause-download'; id: number }
  | {
      type: 'generate';
      id: number;
      /** The whole conversation so far; the worker reuses its KV cache for the shared prefix. */
      turns: ChatTurn[];
      /** The conversation's photo, sent with the first turn; later turns reuse the encoded image. */
      image?: Blob;
      settings: GenerationSettings;
      /** Starts a new conversation, dropping the KV cache. */
      reset?: boolean;
    }
  | { type: 'abort'; id: number }
  | { type: 'unload'; id: number }
  | { type: 'list-cache'; id: number }
  | { type: 'delete-cache'; id: number; key: string };

export interface LoadProgress {
  phase: 'download' | 'verify' | 'convert' | 'upload';
  bytesDone: number;
  bytesTotal: number;
  bytesPerSecond: number;
  /** Shard being worked on, when the phase has shards. */
  shard?: { file: string; bytesDone: number; bytesTotal: number };
}

export interface CachedModel {
  key: string;
  name: string;
  bytes: number;
  complete: boolean;
}

export interface StorageInfo {
  usage?: number;
  quota?: number;
  persisted?: boolean;
}

export interface GenerationTimings {
  imageEncodeMs: number;
  prefillMs: number;
  decodeMs: number;
  promptTokens: number;
  generatedTokens: number;
  decodeTokensPerS: number;
}

/** Error codes the UI maps to help text. */
export type WorkerErrorCode =
  | 'no-webgpu'
  | 'no-adapter'
  | 'limit'
  | 'device-lost'
  | 'download'
  /** Nothing, or a web page instead of a package, at the package URL. */
  | 'not-found'
  | 'corrupt-shard'
  | 'quota'
  | 'storage-unavailable'
  | 'bad-checkpoint'
  | 'bad-image'
  | 'context-overflow'
  | 'not-loaded'
  | 'internal';

export type WorkerEvent =
  | { type: 'probe-result'; id: number; adapter: AdapterSummary | null; description: string; error?: { code: WorkerErrorCode; message: string } }
  | { type: 'load-progress'; id: number; progress: LoadProgress }
  | {
      type: 'loaded';
      id: number;
      name: string;
      randomWeights: boolean;
      gpuBytes: number;
      storage: StorageInfo;
      /** Cache key of the package when it was loaded from or stored into IndexedDB; absent with caching off. */
      cacheKey?: string;
    }
  | { type: 'download-paused'; id: number }
  | { type: 'token'; id: number; text: string; tokenCount: number; tokensPerS: number }
  | { type: 'done'; id: number; text: string; stopReason: 'eos' | 'stop_text' | 'max_tokens' | 'aborted'; timings: GenerationTimings }
  | { type: 'cache-list'; id: number; models: CachedModel[]; storage: StorageInfo }
  | { type: 'unloaded'; id: number }
  | {
      type: 'error';
      id: number | null;
      code: WorkerErrorCode;
      message: string;
      /** Figures from `navigator.storage.estimate()`, with the `quota` and `storage-unavailable` codes. */
      storage?: StorageInfo;
    }
  | { type: 'device-lost'; message: string };
