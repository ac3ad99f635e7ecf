/**
 * Posts one message to a harness worker and resolves with its reply, terminating the worker either
 * way. `workerName` ("Kernel worker") starts the error message when the worker fails.
 */
export function workerReply<Reply>(worker: Worker, message: unknown, workerName: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<Reply>) => {
      worker.terminate();
      resolve(event.data);
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(`${workerName} failed: ${event.message}`));
    };
    worker.postMessage(message);
  });
}
