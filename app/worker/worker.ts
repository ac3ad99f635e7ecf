/**
 * Entry of the model worker (a module Worker): runs {@link createWorkerShell} with the model's
 * generation host. The page talks to it through `client.ts`.
 */
/// <reference lib="webworker" />
import { createGenerationHost } from './generation.ts';
import { createWorkerShell } from './shell.ts';
import type { WorkerEvent, WorkerRequest } from './protocol.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (event: WorkerEvent) => scope.postMessage(event);
const shell = createWorkerShell(post, createGenerationHost(post));

scope.addEventListener('message', (event: MessageEvent<WorkerRequest>) => {
  void shell.handle(event.data);
});

scope.addEventListener('unhandledrejection', (event) => {
  const message = event.reason instanceof Error ? event.reason.message : String(event.reason);
  console.error('Unhandled rejection in the model worker:', event.reason);
  post({ type: 'error', id: null, code: 'internal', message });
});
