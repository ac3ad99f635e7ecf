import { useId, useState } from 'react';
import { useApp } from '../store.ts';

/** Id of the question form, which the conversation keeps its newest text above. */
export const COMPOSER_ID = 'composer';

export function Composer() {
  const [question, setQuestion] = useState('');
  const ready = useApp((state) => state.model.status === 'ready');
  const generating = useApp((state) => state.generating !== null);
  const hasMessages = useApp((state) => state.messages.length > 0);
  const hasPhoto = useApp((state) => state.photo !== null);
  const actions = useApp.getState();
  const inputId = useId();

  let placeholder = 'Ask a question, or add a photo first';
  if (!ready) placeholder = 'Get the model first';
  else if (hasPhoto) placeholder = 'Ask about the photo (Enter to send, Shift+Enter for a new line)';

  const submit = () => {
    if (!question.trim() || generating || !ready) return;
    void actions.ask(question);
    setQuestion('');
  };

  return (
    <form
      id={COMPOSER_ID}
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <label htmlFor={inputId} className="visually-hidden">
        Question
      </label>
      <textarea
        id={inputId}
        rows={2}
        value={question}
        placeholder={placeholder}
        onChange={(event) => setQuestion(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
            event.preventDefault();
            submit();
          } else if (event.key === 'Escape' && generating) {
            event.preventDefault();
            actions.stop();
          }
        }}
        disabled={!ready}
      />
      <div className="row composer-actions">
        {generating ? (
          <button type="button" className="stop" onClick={actions.stop} title="Stop the answer (Esc)">
            Stop
          </button>
        ) : (
          <button type="submit" disabled={!ready || !question.trim()}>
            Ask
          </button>
        )}
        <button type="button" onClick={actions.newConversation} disabled={generating || !hasMessages}>
          New conversation
        </button>
      </div>
    </form>
  );
}
