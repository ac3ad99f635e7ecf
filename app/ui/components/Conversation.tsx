import { useEffect, useRef } from 'react';
import type { GenerationTimings } from '../../worker/protocol.ts';
import type { Message } from '../store.ts';
import { useApp } from '../store.ts';
import { Markdown } from './Markdown.tsx';

export function Conversation() {
  const messages = useApp((state) => state.messages);
  const end = useRef<HTMLDivElement>(null);
  const last = messages[messages.length - 1];
  // Follows the growing answer only while the reader is at the bottom, so scrolling up to
  // read stays put.
  const atBottom = useRef(true);

  useEffect(() => {
    const onScroll = () => {
      const root = document.documentElement;
      atBottom.current = window.innerHeight + window.scrollY >= root.scrollHeight - 120;
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    return () => window.removeEventListener('scroll', onScroll);
  }, []);

  useEffect(() => {
    atBottom.current = true;
    end.current?.scrollIntoView({ block: 'end' });
  }, [messages.length]);

  useEffect(() => {
    if (atBottom.current) end.current?.scrollIntoView({ block: 'end' });
  }, [last?.text]);

  if (messages.length === 0) return <Welcome />;
  return (
    <>
      <ol className="conversation" aria-label="Conversation">
        {messages.map((message) => (
          <li key={message.id} className={`message ${message.role}`} data-testid={`message-${message.role}`} data-state={message.state}>
            {message.role === 'user' ? <p>{message.text}</p> : <Answer message={message} />}
          </li>
        ))}
      </ol>
      <div ref={end} />
    </>
  );
}

function Answer({ message }: { message: Message }) {
  const streaming = message.state === 'streaming';
  return (
    <>
      {/* Screen readers hear the answer as it grows, without re-reading it from the start. */}
      <div aria-live={streaming ? 'polite' : 'off'} aria-busy={streaming} data-testid="answer-text">
        {message.text ? <Markdown text={message.text} /> : streaming ? <p className="muted">Thinking…</p> : null}
      </div>
      {message.state === 'error' && (
        <p className="notice error" role="alert">
          {message.error}
        </p>
      )}
      <p className="meta small" data-testid="answer-meta" title={message.timings ? describeTimings(message.timings) : undefined}>
        {streaming && 'Answering · '}
        {message.state === 'stopped' && 'Stopped · '}
        {message.tokenCount !== undefined && message.tokenCount > 0 && `${message.tokenCount} ${message.tokenCount === 1 ? 'token' : 'tokens'}`}
        {message.tokensPerS !== undefined && message.tokensPerS > 0 && ` · ${message.tokensPerS.toFixed(1)} tokens/s`}
      </p>
    </>
  );
}

/** Lists the first steps until the first question. */
function Welcome() {
  const ready = useApp((state) => state.model.status === 'ready');
  const hasPhoto = useApp((state) => state.photo !== null);
  return (
    <div className="welcome" data-testid="welcome">
      <ol>
        <li>{ready ? 'The model is ready.' : 'Get the model (once: it stays in this browser and works offline).'}</li>
        <li>{hasPhoto ? 'The photo is ready.' : 'Add a photo.'}</li>
        <li>Ask a question about it. Answers appear word by word; you can stop them and ask follow-up questions.</li>
      </ol>
    </div>
  );
}

/** Formats where the time of a finished answer went, for the tooltip of its token count. */
function describeTimings(timings: GenerationTimings): string {
  const parts = [];
  if (timings.imageEncodeMs > 0) parts.push(`photo encoded in ${Math.round(timings.imageEncodeMs)} ms`);
  parts.push(`${timings.promptTokens} prompt tokens read in ${Math.round(timings.prefillMs)} ms`);
  parts.push(`${timings.generatedTokens} tokens written in ${Math.round(timings.decodeMs)} ms`);
  return parts.join(', ');
}
