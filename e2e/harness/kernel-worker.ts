/** Worker side of the kernel harness: runs the kernels it is sent and posts the result. */
import { runKernels, type KernelRequest } from './kernel-common.ts';

self.onmessage = async (event: MessageEvent<KernelRequest>) => {
  self.postMessage(await runKernels(event.data, true));
};
