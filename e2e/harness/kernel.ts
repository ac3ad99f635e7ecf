/** Page side of the kernel harness: runs the kernels in the page or in a module worker. */
import { runKernels, type KernelError, type KernelRequest, type KernelResult } from './kernel-common.ts';

function runInWorker(request: KernelRequest): Promise<KernelResult | KernelError> {
  const worker = new Worker(new URL('./kernel-worker.ts', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<KernelResult | KernelError>) => {
      worker.terminate();
      resolve(event.data);
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(`Kernel worker failed: ${event.message}`));
    };
    worker.postMessage(request);
  });
}

const harness = {
  runInPage: (request: KernelRequest) => runKernels(request, false),
  runInWorker,
};

declare global {
  interface Window {
    kernelHarness: typeof harness;
  }
}

window.kernelHarness = harness;
