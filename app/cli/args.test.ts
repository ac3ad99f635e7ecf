import { describe, expect, it } from 'vitest';
import { UsageError, choiceOption, nearest, numberOption, parseCommandLine, positiveIntegerOption } from './args.ts';

const specs = { model: { type: 'string' }, 'top-p': { type: 'string' }, json: { type: 'boolean' } } as const;

describe('parseCommandLine', () => {
  it('reads values, flags and positionals', () => {
    const { values, positionals } = parseCommandLine(['in', '--model', 'm', '--json', '--top-p=0.5', 'out'], specs, { names: ['<in>', '<out>'] });
    expect(values).toEqual({ model: 'm', json: true, 'top-p': '0.5' });
    expect(positionals).toEqual(['in', 'out']);
  });

  it('reads negative numbers as values', () => {
    expect(parseCommandLine(['--top-p', '-3'], specs).values['top-p']).toBe('-3');
    expect(parseCommandLine(['--top-p', '-.5'], specs).values['top-p']).toBe('-.5');
    expect(parseCommandLine(['--model=--odd'], specs).values.model).toBe('--odd');
  });

  it('rejects each mistake with UsageError', () => {
    const cases: [string[], string][] = [
      [['--modle', 'm'], 'Unknown option --modle. Did you mean --model?'],
      [['--zzzzzz'], 'Unknown option --zzzzzz. The options are --model, --top-p, --json.'],
      [['--model'], '--model needs a value: write --model <value>.'],
      [['--json=yes'], '--json is a switch and takes no value; remove "=yes".'],
      [['extra'], 'Unexpected argument "extra": this command takes options only. Quote a value that contains spaces.'],
    ];
    for (const [args, message] of cases) {
      expect(() => parseCommandLine(args, specs), args.join(' ')).toThrow(UsageError);
      expect(() => parseCommandLine(args, specs), args.join(' ')).toThrow(message);
    }
  });
});

describe('option values', () => {
  it('nearest name by prefix or edits', () => {
    expect(nearest('promt', ['prompt', 'model'])).toBe('prompt');
    expect(nearest('temp', ['temperature', 'top-p'])).toBe('temperature');
    expect(nearest('xyz', ['prompt', 'model'])).toBeUndefined();
  });

  it('numbers checked against their rule', () => {
    expect(positiveIntegerOption('runs', undefined, 15)).toBe(15);
    expect(positiveIntegerOption('runs', '4', 15)).toBe(4);
    expect(() => positiveIntegerOption('runs', '1.5', 15)).toThrow('--runs must be a positive integer; got "1.5".');
    expect(() => positiveIntegerOption('runs', '0', 15)).toThrow(UsageError);
    expect(() => numberOption('top-p', ' ', 1, (n) => n > 0, 'a number in (0, 1]')).toThrow(UsageError);
  });

  it('choices suggest the nearest', () => {
    expect(choiceOption('preset', undefined, ['tiny', 'full'], 'tiny')).toBe('tiny');
    expect(() => choiceOption('preset', 'tyni', ['tiny', 'full'])).toThrow('--preset must be one of tiny, full; got "tyni". Did you mean tiny?');
  });
});
