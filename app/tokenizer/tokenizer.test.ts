import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_CHAT_TEMPLATE } from '../checkpoint/manifest.ts';
import { buildPromptText, IMAGE_TOKEN_ID, PromptError, sharedPrefixLength, tokenizePrompt } from './prompt.ts';
import { StreamingDecoder } from './stream.ts';
import { EOS_ID, TextTokenizer, TokenizerLoadError } from './tokenizer.ts';

const TOKENIZER_JSON = join(import.meta.dirname, '../test/data/tokenizer/tokenizer.json');
const SYSTEM = DEFAULT_CHAT_TEMPLATE.system;

let tokenizer: TextTokenizer;

beforeAll(() => {
  tokenizer = TextTokenizer.fromJson(readFileSync(TOKENIZER_JSON, 'utf8'));
});

/** Feeds ids one at a time and returns each step's text, and the final state. */
function stream(ids: number[], decoder = new StreamingDecoder(tokenizer)): { steps: string[]; decoder: StreamingDecoder } {
  const steps: string[] = [];
  for (const id of ids) {
    const step = decoder.push(id);
    steps.push(step.text);
    if (step.done) break;
  }
  return { steps, decoder };
}

describe('TextTokenizer', () => {
  it('encodes known GPT-NeoX ids', () => {
    expect(tokenizer.encode('Hello world')).toEqual([12092, 1533]);
    expect(tokenizer.encode('\n')).toEqual([187]);
    expect(tokenizer.encode('')).toEqual([]);
  });

  it('adds no BOS token', () => {
    expect(tokenizer.encode('Hello')).toEqual([12092]);
  });

  it('has the OLMo special ids', () => {
    expect(tokenizer.vocabSize).toBe(50280);
    expect(tokenizer.encode('|||IP_ADDRESS|||')).toEqual([EOS_ID]);
    expect(tokenizer.encode('<|endoftext|>')).toEqual([0]);
    expect(tokenizer.encode('<|padding|>')).toEqual([1]);
    expect([...tokenizer.skippedIds].sort()).toEqual([0, 1]);
  });

  it('decode skips ids 0 and 1', () => {
    expect(tokenizer.decode([0, 12092, 1, 1533, 0])).toBe('Hello world');
  });

  const ROUND_TRIP = [
    'A chat between a curious user and an artificial intelligence assistant.',
    '  leading spaces and trailing  ',
    'Tabs\tand\nnewlines\r\n',
    'café naïve ½ ∑',
    '😀 👩‍👩‍👧 🐈',
    '猫が好きです。这是一只猫。',
    'code: `x = [1, 2];` and </s> as text',
    '          ten spaces',
  ];

  it.each(ROUND_TRIP)('round-trips %j', (text) => {
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
  });

  it.each(ROUND_TRIP)('bytesOf concatenates to UTF-8 of %j', (text) => {
    const bytes = tokenizer.encode(text).flatMap((id) => [...tokenizer.bytesOf(id)]);
    expect(new TextDecoder().decode(Uint8Array.from(bytes))).toBe(text);
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => tokenizer.bytesOf(50280)).toThrow(/Token id 50280 is outside the vocabulary \(0 to 50279\)/);
    expect(() => tokenizer.bytesOf(-200)).toThrow(RangeError);
  });

  it('rejects invalid tokenizer.json', () => {
    expect(() => TextTokenizer.fromJson('{"model":', 'pkg/tokenizer.json')).toThrow(TokenizerLoadError);
    expect(() => TextTokenizer.fromJson('{"model": {"type": "Unigram"}}', 'pkg/tokenizer.json')).toThrow(
      /Cannot load the tokenizer from pkg\/tokenizer.json: its model type is "Unigram", expected "BPE"/,
    );
  });
});

describe('StreamingDecoder', () => {
  it('holds an emoji split across tokens', () => {
    // "😀" is three byte-level tokens; " 😀" puts the space and two bytes in the first.
    expect(stream(tokenizer.encode('😀')).steps).toEqual(['', '', '😀']);
    const { steps, decoder } = stream(tokenizer.encode('Hi 😀!'));
    expect(steps).toEqual(['Hi', ' ', '😀', '!']);
    expect(decoder.text).toBe('Hi 😀!');
    expect(decoder.done).toBe(false);
  });

  it('holds CJK split across tokens', () => {
    const text = '猫が好き';
    const ids = tokenizer.encode(text);
    expect(ids.length).toBe(6);
    const { steps } = stream(ids);
    expect(steps).toEqual(['', '', '猫', 'が', '好', 'き']);
  });

  it('cuts </s> split across tokens', () => {
    const ids = tokenizer.encode('Hello world</s>USER: more');
    const { steps, decoder } = stream(ids);
    expect(decoder.done).toBe(true);
    expect(decoder.text).toBe('Hello world');
    for (const step of steps) expect(step).not.toMatch(/[<>]/);
  });

  it('cuts </s> inside a merged token', () => {
    // ".</" is one pre-token, so the stop text starts in the middle of a token.
    const { decoder } = stream(tokenizer.encode('A cat.</s>'));
    expect(decoder.done).toBe(true);
    expect(decoder.text).toBe('A cat.');
  });

  it('releases a < that does not start </s>', () => {
    const { steps, decoder } = stream(tokenizer.encode('a < b and </p> too'));
    expect(steps.join('')).toBe('a < b and </p> too');
    expect(decoder.done).toBe(false);
  });

  it('stops on the EOS ids', () => {
    for (const stopId of [EOS_ID, 0]) {
      const decoder = new StreamingDecoder(tokenizer);
      expect(decoder.push(12092)).toEqual({ text: 'Hello', done: false });
      expect(decoder.push(stopId)).toEqual({ text: '', done: true });
      expect(decoder.text).toBe('Hello');
      expect(() => decoder.push(1533)).toThrow(/after the answer ended/);
    }
  });

  it('skips padding', () => {
    const { steps } = stream([12092, 1, 1533]);
    expect(steps).toEqual(['Hello', '', ' world']);
  });

  it('flushes held text on EOS', () => {
    const decoder = new StreamingDecoder(tokenizer);
    const ids = tokenizer.encode('x </');
    const texts = ids.map((id) => decoder.push(id).text);
    expect(texts.join('')).toBe('x ');
    expect(decoder.push(EOS_ID)).toEqual({ text: '</', done: true });
    expect(decoder.text).toBe('x </');
  });

  it('finish ends at the token limit', () => {
    const decoder = new StreamingDecoder(tokenizer);
    const bytesOfEmoji = tokenizer.encode('😀');
    decoder.push(12092);
    decoder.push(bytesOfEmoji[0]!);
    // An incomplete character becomes U+FFFD rather than disappearing.
    expect(decoder.finish()).toEqual({ text: '\uFFFD', done: true });
    expect(decoder.finish()).toEqual({ text: '', done: true });
  });

  it('does not trim', () => {
    const { decoder } = stream(tokenizer.encode('  spaced out  \n'));
    expect(decoder.finish().done).toBe(true);
    expect(decoder.text).toBe('  spaced out  \n');
  });
});

describe('prompt assembly', () => {
  it('builds the first turn with an image', () => {
    const [before, after] = buildPromptText(DEFAULT_CHAT_TEMPLATE, [{ question: 'What is this?' }], true);
    expect(before).toBe(`${SYSTEM} USER: `);
    expect(after).toBe('\nWhat is this? ASSISTANT:');
  });

  it('builds later turns', () => {
    const turns = [{ question: 'Q1', answer: ' A1.' }, { question: 'Q2', answer: 'A2\n' }, { question: 'Q3' }];
    const [, after] = buildPromptText(DEFAULT_CHAT_TEMPLATE, turns, true);
    expect(after).toBe('\nQ1 ASSISTANT: A1.</s>USER: Q2 ASSISTANT: A2</s>USER: Q3 ASSISTANT:');
  });

  it('uses the text-only first turn', () => {
    const texts = buildPromptText(DEFAULT_CHAT_TEMPLATE, [{ question: 'Hi' }], false);
    expect(texts).toEqual([`${SYSTEM} USER: Hi ASSISTANT:`]);
    const prompt = tokenizePrompt(tokenizer, DEFAULT_CHAT_TEMPLATE, [{ question: 'Hi' }], false);
    expect(prompt.imageIndex).toBe(-1);
    expect(prompt.ids).not.toContain(IMAGE_TOKEN_ID);
    expect(prompt.ids).toEqual(tokenizer.encode(texts[0]!));
  });

  it('marks the image between pieces', () => {
    const prompt = tokenizePrompt(tokenizer, DEFAULT_CHAT_TEMPLATE, [{ question: 'Describe <image> here' }], true);
    const [before, after] = prompt.pieces;
    expect(prompt.pieces.length).toBe(2);
    expect(prompt.ids.filter((id) => id === IMAGE_TOKEN_ID)).toEqual([IMAGE_TOKEN_ID]);
    expect(prompt.ids[prompt.imageIndex]).toBe(IMAGE_TOKEN_ID);
    expect(before!.end).toBe(prompt.imageIndex);
    expect(after!.start).toBe(prompt.imageIndex + 1);
    expect(after!.end).toBe(prompt.ids.length);
    expect(prompt.ids.slice(0, before!.end)).toEqual(tokenizer.encode(before!.text));
    expect(prompt.ids.slice(after!.start)).toEqual(tokenizer.encode(after!.text));
    // The typed "<image>" is plain text in the second piece.
    expect(tokenizer.decode(prompt.ids.slice(after!.start))).toBe('\nDescribe <image> here ASSISTANT:');
    // Each piece is tokenized on its own: no BOS, and the first piece starts with the system text.
    expect(prompt.ids.slice(0, 3)).toEqual(tokenizer.encode('A chat between'));
  });

  it('rejects malformed turns', () => {
    expect(() => buildPromptText(DEFAULT_CHAT_TEMPLATE, [], true)).toThrow(PromptError);
    expect(() => buildPromptText(DEFAULT_CHAT_TEMPLATE, [{ question: 'a' }, { question: 'b' }], true)).toThrow(
      /Turn 1 of 2 has no answer/,
    );
    expect(() => buildPromptText(DEFAULT_CHAT_TEMPLATE, [{ question: 'a', answer: 'b' }], true)).toThrow(
      /last turn \(1\) already has an answer/,
    );
    const noImage = { ...DEFAULT_CHAT_TEMPLATE, firstTurn: ' USER: {question} ASSISTANT:' };
    expect(() => buildPromptText(noImage, [{ question: 'a' }], true)).toThrow(/exactly once/);
  });

  it('keeps template braces in questions literal', () => {
    const [, after] = buildPromptText(DEFAULT_CHAT_TEMPLATE, [{ question: 'say {answer}', answer: 'ok' }, { question: '{question}' }], true);
    expect(after).toBe('\nsay {answer} ASSISTANT: ok</s>USER: {question} ASSISTANT:');
  });
});

describe('multi-turn prefix', () => {
  const ANSWERS = ['A cat.', 'It is a tabby cat sitting on a rug', '猫です😀', '  spaced', '42', 'Yes!', "I don't know"];

  it.each(ANSWERS)('earlier prompt is a prefix after %j', (answer) => {
    for (const withImage of [true, false]) {
      const first = tokenizePrompt(tokenizer, DEFAULT_CHAT_TEMPLATE, [{ question: 'What is it?' }], withImage);
      const turns = [{ question: 'What is it?', answer }, { question: 'Why?' }];
      const second = tokenizePrompt(tokenizer, DEFAULT_CHAT_TEMPLATE, turns, withImage);
      expect(second.ids.slice(0, first.ids.length)).toEqual(first.ids);
      expect(second.imageIndex).toBe(first.imageIndex);
    }
  });

  it.each(ANSWERS)('generated answer ids reuse the cache for %j', (answer) => {
    const first = tokenizePrompt(tokenizer, DEFAULT_CHAT_TEMPLATE, [{ question: 'Q' }], true);
    // What the model would emit after "ASSISTANT:": the answer with its leading space, then </s>.
    const generated = tokenizer.encode(` ${answer.trim()}</s>`);
    const cached = [...first.ids, ...generated];
    const next = tokenizePrompt(tokenizer, DEFAULT_CHAT_TEMPLATE, [{ question: 'Q', answer }, { question: 'More?' }], true);
    const shared = sharedPrefixLength(cached, next.ids);
    expect(shared).toBeGreaterThanOrEqual(first.ids.length);
    // At most the answer's last token merges with "</s>" and has to be fed again.
    const answerTokens = tokenizer.encode(` ${answer.trim()}`).length;
    expect(shared).toBeGreaterThanOrEqual(first.ids.length + answerTokens - 1);
  });

  it('sharedPrefixLength counts equal leading ids', () => {
    expect(sharedPrefixLength([1, 2, 3], [1, 2, 4, 5])).toBe(2);
    expect(sharedPrefixLength([1, 2], [1, 2, 3])).toBe(2);
    expect(sharedPrefixLength([], [1])).toBe(0);
  });
});
