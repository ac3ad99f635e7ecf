import { useEffect, useId, useState } from 'react';
import { CHAT_DEFAULTS, type GenerationSettings } from '../../worker/protocol.ts';
import { useApp } from '../store.ts';

export function SettingsPanel() {
  const settings = useApp((state) => state.settings);
  const actions = useApp.getState();
  // Restoring the defaults remounts the fields, which also clears text that was out of range.
  const [generation, setGeneration] = useState(0);

  return (
    <details className="panel settings">
      <summary>
        <h2>Settings</h2>
      </summary>
      <NumberField
        key={`Temperature-${generation}`}
        label="Temperature"
        help="0 always picks the likeliest token; higher values vary the answer more."
        value={settings.temperature}
        min={0}
        max={2}
        step={0.05}
        onValue={(temperature) => actions.setSettings({ temperature })}
      />
      <NumberField
        key={`Top-p-${generation}`}
        label="Top-p"
        help="Samples only from the likeliest tokens whose probabilities add up to this value."
        value={settings.topP}
        min={0.01}
        max={1}
        step={0.05}
        onValue={(topP) => actions.setSettings({ topP })}
      />
      <NumberField
        key={`Maximum length (tokens)-${generation}`}
        label="Maximum length (tokens)"
        help="The answer stops after this many tokens."
        value={settings.maxNewTokens}
        min={1}
        max={2048}
        step={1}
        integer
        onValue={(maxNewTokens) => actions.setSettings({ maxNewTokens } satisfies Partial<GenerationSettings>)}
      />
      <button
        type="button"
        onClick={() => {
          actions.resetSettings();
          setGeneration((n) => n + 1);
        }}
      >
        Restore defaults ({CHAT_DEFAULTS.temperature} / {CHAT_DEFAULTS.topP} / {CHAT_DEFAULTS.maxNewTokens})
      </button>
    </details>
  );
}

interface NumberFieldProps {
  label: string;
  help: string;
  value: number;
  min: number;
  max: number;
  step: number;
  integer?: boolean;
  onValue: (value: number) => void;
}

/**
 * Renders a number input that keeps incomplete text ("0." or empty) as typed and passes on
 * only values inside [min, max]. Text out of range stays as typed, with a message that gives the
 * range and the value used meanwhile, until it is corrected.
 */
function NumberField({ label, help, value, min, max, step, integer, onValue }: NumberFieldProps) {
  const id = useId();
  const [text, setText] = useState(String(value));
  useEffect(() => setText(String(value)), [value]);

  const inRange = (candidate: string) => {
    const number = Number(candidate);
    return candidate.trim() !== '' && Number.isFinite(number) && number >= min && number <= max && (!integer || Number.isInteger(number));
  };
  const parsed = Number(text);
  const valid = inRange(text);

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        min={min}
        max={max}
        step={step}
        value={text}
        aria-invalid={!valid}
        aria-describedby={`${id}-help`}
        onChange={(event) => {
          setText(event.target.value);
          if (inRange(event.target.value)) onValue(Number(event.target.value));
        }}
        onBlur={() => {
          // Tidies valid text ("0.50" → "0.5"). Invalid text stays, so its message stays too.
          if (valid) setText(String(value));
        }}
      />
      <p id={`${id}-help`} className={valid ? 'muted small' : 'small invalid'} aria-live="polite" data-testid="field-help">
        {valid
          ? `${help} From ${min} to ${max}.`
          : `${describeProblem(text, parsed, integer)}: enter ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}. ${value} is used until then.`}
      </p>
    </div>
  );
}

/** Says what is wrong with the text of a number field, e.g. "-3 is out of range". */
function describeProblem(text: string, parsed: number, integer?: boolean): string {
  if (text.trim() === '') return 'Empty';
  if (!Number.isFinite(parsed)) return `${text} is not a number`;
  if (integer && !Number.isInteger(parsed)) return `${text} is not a whole number`;
  return `${text} is out of range`;
}
