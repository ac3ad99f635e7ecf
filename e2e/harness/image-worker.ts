/** Worker side of the image harness: preprocesses the URL it is sent and posts the result. */
import { runPreprocess } from './image-common.ts';

self.onmessage = async (event: MessageEvent<{ url: string; file: string }>) => {
  self.postMessage(await runPreprocess(event.data.url, event.data.file, true));
};
