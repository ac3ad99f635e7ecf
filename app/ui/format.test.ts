import { describe, expect, test } from 'vitest';
import { DecodeRate, formatBytes, formatDuration, formatLimit, formatRate, percent, secondsLeft } from './format.ts';

describe('formatBytes', () => {
  test.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 KB'],
    [1_234_567, '1.2 MB'],
    [268_000_000, '268 MB'],
    [3_180_000_000, '3.2 GB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  test('invalid counts show a dash', () => {
    expect(formatBytes(-1)).toBe('–');
    expect(formatBytes(Number.NaN)).toBe('–');
  });
});

test('formatRate appends per second', () => {
  expect(formatRate(3_400_000)).toBe('3.4 MB/s');
  expect(formatRate(0)).toBe('–');
});

test.each([
  [44.6, '45 s'],
  [200, '3 min 20 s'],
  [3900, '1 h 5 min'],
  [Number.POSITIVE_INFINITY, '–'],
])('formatDuration(%d) is %s', (seconds, text) => {
  expect(formatDuration(seconds)).toBe(text);
});

test('secondsLeft divides remaining bytes by rate', () => {
  expect(secondsLeft(250, 1250, 100)).toBe(10);
  expect(secondsLeft(2000, 1000, 100)).toBe(0);
  expect(secondsLeft(0, 1000, 0)).toBe(Number.POSITIVE_INFINITY);
});

test('percent is whole and clamped', () => {
  expect(percent(1, 3)).toBe(33);
  expect(percent(5, 0)).toBe(0);
  expect(percent(7, 5)).toBe(100);
});

describe('formatLimit', () => {
  test.each([
    [2 ** 30, '1 GiB'],
    [4 * 2 ** 30 - 4, '4.0 GiB'],
    [128 * 2 ** 20, '128 MiB'],
    [16_384, '16 KiB'],
    [1.5 * 2 ** 20, '1.5 MiB'],
    [256, '256 bytes'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatLimit(bytes)).toBe(text);
  });
});

describe('DecodeRate', () => {
  test('skips wait for first token', () => {
    const rate = new DecodeRate();
    // The first token comes 5 s in, after reading the prompt; then one token every 100 ms.
    expect(rate.add(1, 5000)).toBeUndefined();
    expect(rate.add(2, 5100)).toBeCloseTo(10);
    expect(rate.add(11, 6000)).toBeCloseTo(10);
  });

  test('no rate before time passes', () => {
    const rate = new DecodeRate();
    rate.add(1, 1000);
    expect(rate.add(2, 1000)).toBeUndefined();
  });
});
