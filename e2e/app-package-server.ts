/**
 * A package server for the app's browser tests: serves a folder on 127.0.0.1 with CORS and
 * Range support, and can serve chosen files with one byte flipped, to test checksum errors.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { readFile } from 'node:fs/promises';

export interface PackageServer {
  /** Base URL ending in `/`. */
  url: string;
  /** File names (relative to the folder) served with one byte flipped. */
  corrupt: Set<string>;
  /** Requests so far, in order: the path and the Range header, if any. */
  requests: { path: string; range?: string }[];
  /** When set, file bodies are sent at about this rate, so a test can pause a download midway. */
  bytesPerSecond: number | null;
  close(): Promise<void>;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Range',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges',
};

export async function startPackageServer(folder: string): Promise<PackageServer> {
  const corrupt = new Set<string>();
  const requests: PackageServer['requests'] = [];
  const state = { bytesPerSecond: null as number | null };

  const server: Server = createServer((request, response) => {
    void (async () => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname).replace(/^\/+/, '');
      requests.push({ path, range: request.headers.range });
      if (request.method === 'OPTIONS') {
        response.writeHead(204, CORS).end();
        return;
      }
      const file = normalize(join(folder, path));
      let size: number;
      try {
        if (!file.startsWith(folder)) throw new Error('outside the folder');
        size = statSync(file).size;
      } catch {
        response.writeHead(404, CORS).end(`not found: ${path}`);
        return;
      }

      let start = 0;
      let end = size - 1;
      const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
      if (range) {
        start = Number(range[1]);
        end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      }
      const headers = {
        ...CORS,
        'Accept-Ranges': 'bytes',
        'Content-Length': String(end - start + 1),
        'Content-Type': path.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        'Cache-Control': 'no-store',
        ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
      };
      response.writeHead(range ? 206 : 200, headers);

      if (!corrupt.has(path) && state.bytesPerSecond === null) {
        createReadStream(file, { start, end }).pipe(response);
        return;
      }
      const bytes = await readFile(file);
      if (corrupt.has(path)) {
        // Flip one byte in the middle of the file, so the length is right and the checksum is not.
        bytes[Math.floor(size / 2)] ^= 0xff;
      }
      await sendThrottled(response, bytes.subarray(start, end + 1), state.bytesPerSecond);
    })();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    corrupt,
    requests,
    get bytesPerSecond() {
      return state.bytesPerSecond;
    },
    set bytesPerSecond(value) {
      state.bytesPerSecond = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes `body` in 64 KiB pieces, waiting between them to keep to `bytesPerSecond`; stops when the client goes away. */
async function sendThrottled(response: ServerResponse, body: Uint8Array, bytesPerSecond: number | null): Promise<void> {
  const piece = 64 * 1024;
  for (let offset = 0; offset < body.length && !response.destroyed; offset += piece) {
    response.write(body.subarray(offset, offset + piece));
    if (bytesPerSecond) await new Promise((resolve) => setTimeout(resolve, (piece / bytesPerSecond) * 1000));
  }
  response.end();
}
