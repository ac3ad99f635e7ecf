import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TensorSource } from '../checkpoint/manifest.ts';
import type { DeviceHandle } from '../engine/gpu/device.ts';
import { ReferenceModel } from '../engine/reference/model.ts';
import { ReferenceRunner } from '../engine/reference/runner.ts';
import { buildTestPackage, TINY_SHAPE } from '../engine/model/test-package.ts';
import { requestNodeDevice } from '../engine/gpu/node.ts';
import { testContext } from '../test/gpu.ts';
import { createGenerationHost } from './generation.ts';
import type { LoadProgress, WorkerEvent } from './protocol.ts';

const tokenizer = readFileSync(new URL('../test/data/tokenizer/tokenizer.json', import.meta.url), 'utf8');

/** Builds the tiny test model with the real tokenizer's vocabulary, so that real prompts embed. */
function packageWithTokenizer(): TensorSource {
  const source = buildTestPackage({ ...TINY_SHAPE, vocabSize: 50280, embeddingSize: 50304, maxSequenceLength: 160, eosTokenIds: [50279, 0] });
  return { ...source, readTokenizer: async () => tokenizer };
}

async function host() {
  const events: WorkerEvent[] = [];
  const h = createGenerationHost(
    (e) => events.push(e),
    async (_ctx, source) => Object.assign(new ReferenceRunner(await ReferenceModel.load(source)), { gpuBytes: 0 }),
  );
  const ctx = await testContext();
  await h.load(packageWithTokenizer(), ctx.handle as DeviceHandle);
  return { h, events };
}

const settings = { temperature: 0, topP: 1, maxNewTokens: 4 };

describe('generation host', () => {
  it('reports not-loaded before a load', async () => {
    const events: WorkerEvent[] = [];
    const h = createGenerationHost((e) => events.push(e));
    await h.generate({ type: 'generate', id: 1, turns: [{ question: 'hi' }], settings });
    expect(events).toEqual([expect.objectContaining({ type: 'error', id: 1, code: 'not-loaded' })]);
  });

  it('streams tokens and ends with done', async () => {
    const { h, events } = await host();
    await h.generate({ type: 'generate', id: 2, turns: [{ question: 'What is this?' }], settings });
    const done = events.find((e) => e.type === 'done');
    expect(done).toMatchObject({ type: 'done', id: 2 });
    const streamed = events.filter((e) => e.type === 'token').map((e) => (e as { text: string }).text).join('');
    expect(streamed).toBe((done as { text: string }).text);
  });

  it('aborts a request and answers the next', async () => {
    const { h, events } = await host();
    const first = h.generate({ type: 'generate', id: 3, turns: [{ question: 'Tell me more.' }], settings: { ...settings, maxNewTokens: 40 } });
    h.abort(3);
    await first;
    expect(events.find((e) => e.type === 'done' && e.id === 3)).toMatchObject({ stopReason: 'aborted' });
    await h.generate({ type: 'generate', id: 4, turns: [{ question: 'Tell me more.' }], settings, reset: true });
    expect(events.find((e) => e.type === 'done' && e.id === 4)).toMatchObject({ type: 'done' });
  });

  it('keeps <image> in a question as text', async () => {
    const { h, events } = await host();
    await h.generate({ type: 'generate', id: 6, turns: [{ question: 'What does <image> mean?' }], settings });
    expect(events.find((e) => 'id' in e && e.id === 6 && e.type !== 'token')).toMatchObject({ type: 'done', id: 6 });
  });

  it('reports a prompt past the context', async () => {
    const { h, events } = await host();
    await h.generate({ type: 'generate', id: 5, turns: [{ question: 'word '.repeat(200) }], settings });
    expect(events).toContainEqual(expect.objectContaining({ type: 'error', id: 5, code: 'context-overflow' }));
  });
  it('GPU load, answer, device loss', async () => {
    const events: WorkerEvent[] = [];
    const h = createGenerationHost((e) => events.push(e));
    const device = await requestNodeDevice();
    const progress: LoadProgress[] = [];
    const { gpuBytes } = await h.load(packageWithTokenizer(), device, (p) => progress.push(p));
    expect(gpuBytes).toBeGreaterThan(0);
    // One upload event a tensor, ending at the total.
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.every((p) => p.phase === 'upload')).toBe(true);
    expect(progress.at(-1)!.bytesDone).toBe(progress.at(-1)!.bytesTotal);
    await h.generate({ type: 'generate', id: 20, turns: [{ question: 'What is this?' }], settings });
    const done = events.find((e) => e.type === 'done' && e.id === 20) as Extract<WorkerEvent, { type: 'done' }>;
    expect(done.stopReason).toBe('max_tokens');
    expect(done.timings.generatedTokens).toBe(4);

    device.device.destroy();
    await device.lost;
    await new Promise((resolve) => setTimeout(resolve, 0));
    await h.generate({ type: 'generate', id: 21, turns: [{ question: 'Still there?' }], settings });
    expect(events.at(-1)).toMatchObject({ type: 'error', id: 21, code: 'not-loaded' });
  });
});
