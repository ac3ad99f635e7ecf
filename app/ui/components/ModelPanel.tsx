import { useId, useRef } from 'react';
import { formatBytes } from '../format.ts';
import { useApp } from '../store.ts';
import { ProgressBar } from './ProgressBar.tsx';

/** Help for errors whose fix is a control on this panel; the worker's message covers the rest. */
const ERROR_HELP: Partial<Record<string, string>> = {
  download: 'Check the address and the network, then try again.',
  quota: 'The browser has no room to cache the model. Delete cached models, free disk space, or turn off "Keep a copy" to load without caching.',
  'storage-unavailable': 'This window cannot store data (private windows often cannot). Turn off "Keep a copy" to load without caching.',
};

export function ModelPanel() {
  const model = useApp((state) => state.model);
  const modelUrl = useApp((state) => state.modelUrl);
  const useCache = useApp((state) => state.useCache);
  const actions = useApp.getState();
  const urlId = useId();
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const busy = model.status === 'loading';

  return (
    <section className="panel" aria-labelledby="model-title">
      <h2 id="model-title">Model</h2>

      {model.status === 'ready' && (
        <div className="model-ready" data-testid="model-ready">
          <p>
            <span className="dot ok" aria-hidden="true" /> <strong>{model.name}</strong> is loaded ({formatBytes(model.gpuBytes)} on the GPU).
          </p>
          {model.randomWeights && (
            <p className="demo-label" role="note">
              Demo model with <strong>random weights</strong>: it shows the app working, but its answers are noise. Load a converted
              LLaVaOLMoBitnet1B package for real answers.
            </p>
          )}
        </div>
      )}

      <form
        className="model-form"
        onSubmit={(event) => {
          event.preventDefault();
          void actions.loadFromUrl();
        }}
      >
        <label htmlFor={urlId}>Package URL</label>
        <div className="row">
          <input
            id={urlId}
            type="text"
            inputMode="url"
            spellCheck={false}
            value={modelUrl}
            onChange={(event) => actions.setModelUrl(event.target.value)}
            disabled={busy}
          />
          <button type="submit" disabled={busy || !modelUrl.trim()}>
            {model.status === 'ready' ? 'Load' : 'Get model'}
          </button>
        </div>
        <label className="check">
          <input type="checkbox" checked={useCache} onChange={(event) => actions.setUseCache(event.target.checked)} disabled={busy} />
          Keep a copy in this browser (needed offline)
        </label>
        <p className="muted small">
          Or drop the downloaded checkpoint (<code>pytorch_model.bin</code>, <code>config.json</code> and <code>tokenizer.json</code>) or a
          package folder onto the page, or{' '}
          <button type="button" className="link" onClick={() => filesInput.current?.click()} disabled={busy}>
            choose files
          </button>{' '}
          /{' '}
          <button type="button" className="link" onClick={() => folderInput.current?.click()} disabled={busy}>
            a folder
          </button>
          .
        </p>
        <input
          ref={filesInput}
          type="file"
          multiple
          hidden
          onChange={(event) => {
            const files = Array.from(event.target.files ?? []);
            event.target.value = '';
            if (files.length) void actions.loadFromFiles(files);
          }}
        />
        <input
          ref={folderInput}
          type="file"
          hidden
          {...{ webkitdirectory: '' }}
          onChange={(event) => {
            const files = Array.from(event.target.files ?? []);
            event.target.value = '';
            if (files.length) void actions.loadFromFiles(files);
          }}
        />
      </form>

      {(model.status === 'loading' || model.status === 'paused') && (
        <div className="loading" data-testid="model-loading">
          <p className="muted small">From {model.label}</p>
          <ProgressBar progress={model.progress} paused={model.status === 'paused'} />
          {model.status === 'loading' ? (
            <button type="button" onClick={actions.pauseDownload} disabled={model.pausing}>
              {model.pausing ? 'Pausing…' : 'Pause'}
            </button>
          ) : (
            <button type="button" onClick={() => void actions.resumeDownload()}>
              Resume
            </button>
          )}
        </div>
      )}

      {model.status === 'error' && (
        <div className="error-box" role="alert" data-testid="model-error">
          <p>
            <strong>Loading the model failed.</strong> {model.message}
          </p>
          {ERROR_HELP[model.code] && <p>{ERROR_HELP[model.code]}</p>}
          <button type="button" onClick={() => void actions.retryLoad()}>
            Try again
          </button>
        </div>
      )}

      <CachedModels />
    </section>
  );
}

function CachedModels() {
  const cached = useApp((state) => state.cached);
  const storage = useApp((state) => state.storage);
  const busy = useApp((state) => state.model.status === 'loading');
  const actions = useApp.getState();

  return (
    <div className="cached">
      <h3>Stored in this browser</h3>
      {cached.length === 0 ? (
        <p className="muted small">No models stored yet.</p>
      ) : (
        <ul className="cached-list">
          {cached.map((entry) => (
            <li key={entry.key}>
              <span>
                {entry.name} · {formatBytes(entry.bytes)}
                {!entry.complete && <em> · incomplete</em>}
              </span>
              <span className="row">
                {entry.complete && (
                  <button type="button" onClick={() => void actions.loadCached(entry.key)} disabled={busy}>
                    Load
                  </button>
                )}
                <button type="button" className="danger" onClick={() => void actions.deleteCached(entry.key)} disabled={busy} aria-label={`Delete ${entry.name}`}>
                  Delete
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
      <p className="muted small" data-testid="storage-line">
        Storage: {storage.usage !== undefined ? formatBytes(storage.usage) : 'unknown'} used
        {storage.quota !== undefined && <> of {formatBytes(storage.quota)} available to this site</>}
        {storage.persisted && <> · kept by the browser</>}.
      </p>
    </div>
  );
}
