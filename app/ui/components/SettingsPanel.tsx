import { useId } from 'react';
import { CHAT_DEFAULTS } from '../../worker/protocol.ts';
import { useApp } from '../store.ts';

export function SettingsPanel() {
  const settings = useApp((state) => state.settings);
  const actions = useApp.getState();
  const ids = { temperature: useId(), topP: useId(), maxNewTokens: useId() };

  return (
    <details className="panel settings">
      <summary>
        <h2>Settings</h2>
      </summary>
      <div className="field">
        <label htmlFor={ids.temperature}>Temperature</label>
        <input
          id={ids.temperature}
          type="number"
          min={0}
          max={2}
          step={0.05}
          value={settings.temperature}
          onChange={(event) => actions.setSettings({ temperature: clamp(event.target.valueAsNumber, 0, 2, CHAT_DEFAULTS.temperature) })}
        />
        <p className="muted small">0 always picks the likeliest token; higher values vary the answer more.</p>
      </div>
      <div className="field">
        <label htmlFor={ids.topP}>Top-p</label>
        <input
          id={ids.topP}
          type="number"
          min={0.05}
          max={1}
          step={0.05}
          value={settings.topP}
          onChange={(event) => actions.setSettings({ topP: clamp(event.target.valueAsNumber, 0.05, 1, CHAT_DEFAULTS.topP) })}
        />
        <p className="muted small">Samples only from the likeliest tokens that together reach this probability.</p>
      </div>
      <div className="field">
        <label htmlFor={ids.maxNewTokens}>Maximum length (tokens)</label>
        <input
          id={ids.maxNewTokens}
          type="number"
          min={1}
          max={2048}
          step={1}
          value={settings.maxNewTokens}
          onChange={(event) =>
            actions.setSettings({ maxNewTokens: Math.round(clamp(event.target.valueAsNumber, 1, 2048, CHAT_DEFAULTS.maxNewTokens)) })
          }
        />
      </div>
      <button type="button" onClick={actions.resetSettings}>
        Restore defaults ({CHAT_DEFAULTS.temperature} / {CHAT_DEFAULTS.topP} / {CHAT_DEFAULTS.maxNewTokens})
      </button>
    </details>
  );
}

function clamp(value: number, min: number, max: number, fallback: number): number {
  if (!Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, value));
}
