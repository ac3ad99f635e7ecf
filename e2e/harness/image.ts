/** Page side of the image harness: preprocessing in the page or in a module worker. */
import { runPreprocess, type HarnessError, type HarnessResult } from './image-common.ts';
import { workerReply } from './worker-reply.ts';

function preprocessInWorker(url: string, file: string): Promise<HarnessResult | HarnessError> {
  const worker = new Worker(new URL('./image-worker.ts', import.meta.url), { type: 'module' });
  return workerReply(worker, { url: new URL(url, location.href).href, file }, 'Image worker');
}

const harness = {
  preprocessInPage: (url: string, file: string) => runPreprocess(url, file, false),
  preprocessInWorker,
};

declare global {
  interface Window {
    imageHarness: typeof harness;
  }
}

window.imageHarness = harness;
