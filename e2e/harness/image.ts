/** Page side of the image harness: preprocessing in the page or in a module worker. */
import { runPreprocess, type HarnessError, type HarnessResult } from './image-common.ts';

function preprocessInWorker(url: string, file: string): Promise<HarnessResult | HarnessError> {
  const worker = new Worker(new URL('./image-worker.ts', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<HarnessResult | HarnessError>) => {
      worker.terminate();
      resolve(event.data);
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(`Image worker failed: ${event.message}`));
    };
    worker.postMessage({ url: new URL(url, location.href).href, file });
  });
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
