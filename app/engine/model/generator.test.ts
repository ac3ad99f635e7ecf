import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHAT_TEMPLATE } from '../../checkpoint/manifest.ts';
import { ReferenceModel, ReferenceCache } from '../reference/model.ts';
import { ReferenceRunner } from '../reference/runner.ts';
import { createCodec } from './codec.ts';
import { IMAGE_MARKER_ID, resolveDims } from './config.ts';
import { ContextOverflowError } from './errors.ts';
import { Generator, type TextCodec } from './generator.ts';
import { buildPromptText, tokenizePrompt } from '../../tokenizer/prompt.ts';
import type { EncodedImage, ModelRunner, SamplingSettings } from './runner.ts';
import { buildTestPackage, testPixels, TINY_SHAPE } from './test-package.ts';

/** Id i ↦ one character of ALPHABET (ids 0 and 1 are special and decode to nothing). */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz </s>?.';
const codec: TextCodec = {
  encode: (text) => Array.from(text, (c) => 2 + ALPHABET.indexOf(c)),
  decode: (ids) => ids.filter((id) => id > 1).map((id) => ALPHABET[(id - 2) % ALPHABET.length]).join(''),
};
const greedy: SamplingSettings = { temperature: 0, topP: 1, seed: 0 };

/** A runner that returns a fixed token sequence, to test the stop rules alone. */
function scriptedRunner(script: number[], dims = resolveDims(buildTestPackage().manifest)): ModelRunner {
  let length = 0;
  return {
    dims,
    get length() {
      return length;
    },
    async encodeImage(): Promise<EncodedImage> {
      return { tokens: dims.imageTokens, release() {} };
    },
    async step(ids, _image, _sampling, index) {
      length += ids.length;
      return { token: script[index] };
    },
    truncate(n) {
      length = Math.min(length, n);
    },
    destroy() {},
  };
}

describe('generator', () => {
  it('builds the LLaVA prompt with the image marker', () => {
    const turns = [{ question: 'what?', answer: 'a cat' }, { question: 'why?' }];
    const pieces = buildPromptText(DEFAULT_CHAT_TEMPLATE, turns, true);
    expect(pieces.join('<image>')).toBe(`${DEFAULT_CHAT_TEMPLATE.system} USER: <image>\nwhat? ASSISTANT: a cat</s>USER: why? ASSISTANT:`);
    const { ids } = tokenizePrompt({ encode: (t) => [t.length] }, DEFAULT_CHAT_TEMPLATE, turns, true);
    expect(ids).toEqual([pieces[0].length, IMAGE_MARKER_ID, pieces[1].length]);
  });

  it('stops at and cuts stop text', async () => {
    const g = new Generator(scriptedRunner(codec.encode('ab</s>cd')), codec);
    const pieces: string[] = [];
    const r = await g.generate([2, 3], { sampling: greedy, maxNewTokens: 20, stopText: '</s>', onText: (t) => pieces.push(t) });
    expect(r.stopReason).toBe('stop_text');
    expect(r.text).toBe('ab');
    expect(pieces.join('')).toBe('ab');
  });

  it('stops at an EOS id without its text', async () => {
    const g = new Generator(scriptedRunner([...codec.encode('hi'), TINY_SHAPE.eosTokenIds[0]]), codec);
    const r = await g.generate([2, 3], { sampling: greedy, maxNewTokens: 20, stopText: '</s>' });
    expect(r.stopReason).toBe('eos');
    expect(r.tokens.length).toBe(3);
    expect(r.text).toBe('hi');
  });

  it('streams through the tokenizer decoder', async () => {
    const tokenizer = createCodec(readFileSync(new URL('../../test/data/tokenizer/tokenizer.json', import.meta.url), 'utf8'));
    // An emoji spans several byte-level tokens; the stop text spans several too.
    const dims = resolveDims(buildTestPackage({ ...TINY_SHAPE, vocabSize: 50280, embeddingSize: 50304, eosTokenIds: [50279, 0] }).manifest);
    const script = tokenizer.encode('Hi 🙂 there</s>more');
    const g = new Generator(scriptedRunner(script, dims), tokenizer);
    const pieces: string[] = [];
    const r = await g.generate([2, 3], { sampling: greedy, maxNewTokens: 40, stopText: '</s>', onText: (t) => pieces.push(t) });
    expect(r.stopReason).toBe('stop_text');
    expect(r.text).toBe('Hi 🙂 there');
    expect(pieces.join('')).toBe('Hi 🙂 there');
    expect(pieces.every((p) => !p.includes('\uFFFD'))).toBe(true);

    const eos = new Generator(scriptedRunner([...tokenizer.encode('ok'), 50279], dims), tokenizer);
    const e = await eos.generate([2, 3], { sampling: greedy, maxNewTokens: 40, stopText: '</s>' });
    expect(e.stopReason).toBe('eos');
    expect(e.text).toBe('ok');
  });

  it('rejects a prompt past the context', async () => {
    const model = await ReferenceModel.load(buildTestPackage());
    const g = new Generator(new ReferenceRunner(model), codec);
    const ids = new Array(TINY_SHAPE.maxSequenceLength).fill(5);
    await expect(g.generate(ids, { sampling: greedy, maxNewTokens: 4, stopText: '</s>' })).rejects.toBeInstanceOf(ContextOverflowError);
  });

  it('follow-up turn equals a full prefill', async () => {
    const model = await ReferenceModel.load(buildTestPackage());
    const runner = new ReferenceRunner(model);
    const g = new Generator(runner, codec);
    await g.setImage('photo', async () => testPixels(TINY_SHAPE.imageSize));
    const first = [4, 5, IMAGE_MARKER_ID, 6, 7];
    const r1 = await g.generate(first, { sampling: greedy, maxNewTokens: 5, stopText: '</s>' });
    const followUp = [...first, ...r1.tokens, 8, 9];
    const r2 = await g.generate(followUp, { sampling: greedy, maxNewTokens: 3, stopText: '</s>', keepLogits: true });

    // The same prompt from an empty cache.
    const image = model.encodeImage(testPixels(TINY_SHAPE.imageSize));
    const all = model.forward(model.embed(followUp, image), new ReferenceCache(model.dims));
    const V = model.dims.llm.embeddingSize;
    expect(Array.from(r2.logits![0])).toEqual(Array.from(all.slice(all.length - V)));
    expect(r2.timings.imageEncodeMs).toBe(0);
  });

  it('abort stops and the next request works', async () => {
    const model = await ReferenceModel.load(buildTestPackage());
    const g = new Generator(new ReferenceRunner(model), codec);
    const controller = new AbortController();
    const r = await g.generate([4, 5, 6], {
      sampling: { temperature: 0.8, topP: 0.9, seed: 3 },
      maxNewTokens: 30,
      stopText: '</s>',
      signal: controller.signal,
      onText: (_t, n) => n >= 2 && controller.abort(),
    });
    expect(r.stopReason).toBe('aborted');
    g.reset();
    const again = await g.generate([4, 5, 6], { sampling: greedy, maxNewTokens: 3, stopText: '</s>' });
    expect(again.tokens.length).toBeGreaterThan(0);
    expect(model.greedy([4, 5, 6], again.tokens.length).tokens.slice(0, again.tokens.length)).toEqual(again.tokens);
  });
});
