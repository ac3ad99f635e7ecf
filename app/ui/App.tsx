import { useEffect } from 'react';
import { useApp } from './store.ts';
import { Composer } from './components/Composer.tsx';
import { Conversation } from './components/Conversation.tsx';
import { DropTarget } from './components/DropTarget.tsx';
import { GpuStatus, NoWebGpu } from './components/GpuStatus.tsx';
import { ModelPanel } from './components/ModelPanel.tsx';
import { PhotoPicker } from './components/PhotoPicker.tsx';
import { SettingsPanel } from './components/SettingsPanel.tsx';

export function App() {
  const gpu = useApp((state) => state.gpu.status);
  const online = useApp((state) => state.online);
  const fatal = useApp((state) => state.fatal);
  const hasConversation = useApp((state) => state.messages.length > 0);

  useEffect(() => {
    void useApp.getState().start();
    const update = () => useApp.getState().setOnline(navigator.onLine);
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, []);

  // A reload or close drops the conversation and the photo, so the browser shows a confirmation
  // prompt while a conversation exists.
  useEffect(() => {
    if (!hasConversation) return;
    const confirmLeave = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      // Older Chromium shows the prompt only when returnValue is set.
      event.returnValue = '';
    };
    window.addEventListener('beforeunload', confirmLeave);
    return () => window.removeEventListener('beforeunload', confirmLeave);
  }, [hasConversation]);

  return (
    <>
      <a className="skip" href="#question-area">
        Skip to the question
      </a>
      <header className="top">
        <div>
          <h1>Trit</h1>
          <p className="muted small">A ternary vision-language model, running on your GPU in this page.</p>
        </div>
        <div className="row">
          {!online && (
            <span className="badge offline" role="status" data-testid="offline-badge">
              Offline
            </span>
          )}
          <GpuStatus />
        </div>
      </header>

      {fatal && (
        <p className="banner error" role="alert">
          {fatal}{' '}
          <button type="button" className="link" onClick={() => useApp.getState().dismissFatal()}>
            Dismiss
          </button>
        </p>
      )}

      {gpu === 'unavailable' ? (
        <main>
          <NoWebGpu />
        </main>
      ) : (
        <main className="layout">
          <aside className="side">
            <ModelPanel />
            <SettingsPanel />
          </aside>
          <section className="chat" id="question-area" aria-label="Chat">
            <PhotoPicker />
            <Conversation />
            <Composer />
          </section>
          <DropTarget />
        </main>
      )}
    </>
  );
}
