import { useEffect, useRef } from 'react';
import type { GenerationTimings } from '../../worker/protocol.ts';
import type { Message } from '../store.ts';
import { useApp } from '../store.ts';
import { COMPOSER_ID } from './Composer.tsx';
import { Markdown } from './Markdown.tsx';

export function Conversation() {
  const messages = useApp((state) => state.messages);
  const end = useRef<HTMLDivElement>(null);
  const last = messages[messages.length - 1];
  // True while the view follows the growing answer. Scrolling up away from the end clears it, so the
  // page stays where the reader scrolled. A new message or scrolling back to the end sets it again.
  const following = useRef(true);

  useEffect(() => {
    const onScroll = () => {
      if (end.current) following.current = hiddenBelow(end.current) < FOLLOW_SLACK_PX;
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    return () => window.removeEventListener('scroll', onScroll);
  }, []);

  useEffect(() => {
    following.current = true;
    if (end.current) revealEnd(end.current);
  }, [messages.length]);

  useEffect(() => {
    if (following.current && end.current) revealEnd(end.current);
  }, [last?.text, last?.state]);

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
        {describeProgress(message)}
      </p>
    </>
  );
}

/** How far the end of the conversation may lie out of view and still count as followed. */
const FOLLOW_SLACK_PX = 80;

/** Pixels by which `marker` lies below the part of the window the sticky question box leaves visible. */
function hiddenBelow(marker: HTMLElement): number {
  const composer = document.getElementById(COMPOSER_ID);
  const visibleBottom = window.innerHeight - (composer?.getBoundingClientRect().height ?? 0);
  return marker.getBoundingClientRect().bottom - visibleBottom;
}

/** Scrolls the window just enough that `marker` shows above the sticky question box. */
function revealEnd(marker: HTMLElement): void {
  const hidden = hiddenBelow(marker);
  if (hidden > 0) window.scrollBy({ top: hidden, behavior: 'instant' });
}

/** Lists the first steps until the first question. */
function Welcome() {
  const ready = useApp((state) => state.model.status === 'ready');
  const hasPhoto = useApp((state) => state.photo !== null);
  return (
    <div className="welcome" data-testid="welcome">
      <ol>
        <li>
          {ready ? (
            'The model is ready.'
          ) : (
            <>
              <a href="#model-title">Get the model</a> (once: it stays in this browser and works offline).
            </>
          )}
        </li>
        <li>{hasPhoto ? 'The photo is ready.' : 'Add a photo.'}</li>
        <li>Ask a question about it. Answers appear word by word; you can stop them and ask follow-up questions.</li>
      </ol>
    </div>
  );
}

/** Joins the answer's state, token count and decoding speed with middle dots, leaving out what is not known yet. */
function describeProgress(message: Message): string {
  const parts: string[] = [];
  // Until the first token the answer itself reads "Thinking…", so the line stays empty.
  if (message.state === 'streaming' && message.tokenCount) parts.push('Answering');
  if (message.state === 'stopped') parts.push('Stopped');
  const count = message.tokenCount ?? 0;
  if (count > 0) parts.push(`${count} ${count === 1 ? 'token' : 'tokens'}`);
  if (message.tokensPerS !== undefined && message.tokensPerS > 0) parts.push(`${message.tokensPerS.toFixed(1)} tokens/s`);
  return parts.join(' · ');
}

/** Formats the time breakdown of a finished answer for the tooltip of its token count. */
function describeTimings(timings: GenerationTimings): string {
  const parts = [];
  if (timings.imageEncodeMs > 0) parts.push(`photo encoded in ${Math.round(timings.imageEncodeMs)} ms`);
  parts.push(`${timings.promptTokens} prompt tokens read in ${Math.round(timings.prefillMs)} ms`);
  parts.push(`${timings.generatedTokens} tokens written in ${Math.round(timings.decodeMs)} ms`);
  return parts.join(', ');
}
