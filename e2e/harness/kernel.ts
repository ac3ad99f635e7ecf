/** Page side of the kernel harness: runs the kernels in the page or in a module worker. */
import { runKernels, type KernelError, type KernelRequest, type KernelResult } from './kernel-common.ts';
import { workerReply } from './worker-reply.ts';

function runInWorker(request: KernelRequest): Promise<KernelResult | KernelError> {
  const worker = new Worker(new URL('./kernel-worker.ts', import.meta.url), { type: 'module' });
  return workerReply(worker, request, 'Kernel worker');
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
