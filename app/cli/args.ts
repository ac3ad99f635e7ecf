/**
 * Command-line parsing shared by the `trit` subcommands: `node:util` parseArgs reads the tokens,
 * and every mistake becomes a `UsageError` whose message names the argument and the fix. `main`
 * prints it after `trit <command>:` and exits with code 2.
 */
import { parseArgs } from 'node:util';

/** A mistake in the command line (unknown option, missing or invalid value). `main` exits with code 2 on it. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Options of one subcommand, by long name without the dashes. */
export type OptionSpecs = Record<string, { type: 'string' | 'boolean' }>;

/** Parsed option values: a string or `true` for each option given, absent otherwise. */
export type OptionValues<S extends OptionSpecs> = { [K in keyof S]?: S[K]['type'] extends 'string' ? string : boolean };

/** The positional arguments a subcommand takes, by name as its usage line shows them (`<out-dir>`). */
export interface PositionalSpec {
  names: string[];
  /** Number of leading `names` that are required (all of them when absent). */
  required?: number;
  /** The usage line shown when one is missing, e.g. "trit convert <checkpoint> <out-dir> [options]". */
  usage?: string;
}

/** A negative number, which parseArgs would otherwise read as an option. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/** Levenshtein edit distance between two short strings. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Returns the candidate closest to `input`: the only candidate that starts with `input` (when
 * `input` has 2 or more characters), else the nearest within max(2, ⌊input.length / 3⌋) edits.
 * Returns undefined when none is close.
 */
export function nearest(input: string, candidates: string[]): string | undefined {
  const prefixed = candidates.filter((c) => input.length >= 2 && c.startsWith(input));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(input.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(input, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function unknownOption(rawName: string, specs: OptionSpecs): UsageError {
  const names = Object.keys(specs);
  const guess = nearest(rawName.replace(/^-+/, ''), [...names, 'help']);
  const hint = guess ? `Did you mean --${guess}?` : `The options are ${names.map((n) => `--${n}`).join(', ')}.`;
  return new UsageError(`Unknown option ${rawName}. ${hint}`);
}

/**
 * Parses `args` against `specs`. A string option takes the next argument as its value unless that
 * argument is another option, so `--max-new-tokens -3` reads -3 (which the caller then rejects)
 * and `--model --json` fails with "needs a value". Throws `UsageError` for an unknown option (with
 * the nearest known one), a missing value, a value given to a flag, or the wrong number of
 * positional arguments.
 */
export function parseCommandLine<const S extends OptionSpecs>(
  args: string[],
  specs: S,
  positional: PositionalSpec = { names: [] },
): { values: OptionValues<S>; positionals: string[] } {
  const { tokens } = parseArgs({ args, options: specs, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];

  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = specs[token.name];
    if (!spec) throw unknownOption(token.rawName, specs);
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${token.rawName} is a switch and takes no value; remove "=${token.value}".`);
      values[token.name] = true;
      continue;
    }
    const value = token.value;
    if (value === undefined) throw new UsageError(`${token.rawName} needs a value: write ${token.rawName} <value>.`);
    if (!token.inlineValue && value.startsWith('-') && !NEGATIVE_NUMBER.test(value)) {
      throw new UsageError(
        `${token.rawName} needs a value, but the next argument is the option ${value}. For a value that starts with "-", write ${token.rawName}=<value>.`,
      );
    }
    values[token.name] = value;
  }

  const required = positional.required ?? positional.names.length;
  const usage = positional.usage ?? positional.names.join(' ');
  if (positionals.length > positional.names.length) {
    const extra = positionals.slice(positional.names.length).map((p) => JSON.stringify(p)).join(', ');
    const expected = positional.names.length ? `only ${positional.names.join(' ')}` : 'options only';
    throw new UsageError(`Unexpected argument ${extra}: this command takes ${expected}. Quote a value that contains spaces.`);
  }
  if (positionals.length < required) {
    const missing = positional.names.slice(positionals.length, required).join(' and ');
    throw new UsageError(`Missing ${missing}: the usage is ${usage}.`);
  }
  return { values: values as OptionValues<S>, positionals };
}

/**
 * Reads a numeric option: `fallback` when absent, else the number, which must pass `valid`.
 * `expected` completes "must be …" in the error, e.g. "a positive integer".
 */
export function numberOption(name: string, value: string | undefined, fallback: number, valid: (n: number) => boolean, expected: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !valid(n)) throw new UsageError(`--${name} must be ${expected}; got "${value}".`);
  return n;
}

/** Reads an option that must be a positive integer (a count of runs or tokens). */
export function positiveIntegerOption(name: string, value: string | undefined, fallback: number): number {
  return numberOption(name, value, fallback, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
}

/** Reads an option whose value must be one of `choices`, or `fallback` when it is absent. */
export function choiceOption<T extends string>(name: string, value: string | undefined, choices: readonly T[], fallback: T): T;
export function choiceOption<T extends string>(name: string, value: string | undefined, choices: readonly T[]): T | undefined;
export function choiceOption<T extends string>(name: string, value: string | undefined, choices: readonly T[], fallback?: T): T | undefined {
  if (value === undefined) return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  const guess = nearest(value, [...choices]);
  const hint = guess ? ` Did you mean ${guess}?` : '';
  throw new UsageError(`--${name} must be one of ${choices.join(', ')}; got "${value}".${hint}`);
}
