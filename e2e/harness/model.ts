/**
 * Test page for the model worker: drives the real worker (`app/worker/worker.ts`) through
 * {@link TritClient}, for `e2e/worker-model.spec.ts`. Each call returns plain data the spec checks.
 */
import { TritClient, WorkerRequestError } from '../../app/worker/client.ts';
import type { ChatTurn, GenerationSettings } from '../../app/worker/protocol.ts';

export interface TurnOutcome {
  ok: boolean;
  /** Text of each `token` event, in order. */
  pieces: string[];
  tokenCounts: number[];
  text?: string;
  stopReason?: string;
  promptTokens?: number;
  imageEncodeMs?: number;
  error?: { code: string; message: string };
}

const client = new TritClient();
const greedy: GenerationSettings = { temperature: 0, topP: 1, maxNewTokens: 4 };

async function turn(turns: ChatTurn[], options: { photoUrl?: string; reset?: boolean; settings?: Partial<GenerationSettings>; abortAfterTokens?: number } = {}): Promise<TurnOutcome> {
  const image = options.photoUrl ? await (await fetch(options.photoUrl)).blob() : undefined;
  const { id, events } = client.generate({ turns, image, reset: options.reset, settings: { ...greedy, ...options.settings } });
  const outcome: TurnOutcome = { ok: false, pieces: [], tokenCounts: [] };
  try {
    for await (const event of events) {
      if (event.type === 'token') {
        outcome.pieces.push(event.text);
        outcome.tokenCounts.push(event.tokenCount);
        if (options.abortAfterTokens !== undefined && event.tokenCount >= options.abortAfterTokens) client.abort(id);
      } else {
        outcome.ok = true;
        outcome.text = event.text;
        outcome.stopReason = event.stopReason;
        outcome.promptTokens = event.timings.promptTokens;
        outcome.imageEncodeMs = event.timings.imageEncodeMs;
      }
    }
  } catch (error) {
    outcome.error = error instanceof WorkerRequestError ? { code: error.code, message: error.message } : { code: 'harness', message: String(error) };
  }
  return outcome;
}

const harness = {
  async load(url: string): Promise<{ name: string; gpuBytes: number } | { error: string }> {
    try {
      const loaded = await client.load({ kind: 'url', url }, { cache: false });
      if (loaded.type !== 'loaded') return { error: `load ended with ${loaded.type}` };
      return { name: loaded.name, gpuBytes: loaded.gpuBytes };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  },
  turn,
};

declare global {
  interface Window {
    modelHarness: typeof harness;
  }
}

window.modelHarness = harness;
document.body.dataset.ready = 'true';
