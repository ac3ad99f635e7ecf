/**
 * A package server for the app's browser tests: serves a folder on 127.0.0.1 with CORS and
 * Range support, and can serve chosen files with one byte flipped, to test checksum errors.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { readFile } from 'node:fs/promises';

export interface PackageServer {
  /** Base URL ending in `/`. */
  url: string;
  /** File names (relative to the folder) served with one byte flipped. */
  corrupt: Set<string>;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Range',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges',
};

export async function startPackageServer(folder: string): Promise<PackageServer> {
  const corrupt = new Set<string>();
  const requests: string[] = [];

  const server: Server = createServer((request, response) => {
    void (async () => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname).replace(/^\/+/, '');
      requests.push(path);
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

      if (!corrupt.has(path)) {
        createReadStream(file, { start, end }).pipe(response);
        return;
      }
      // Flip one byte in the middle of the file, so the length is right and the checksum is not.
      const bytes = await readFile(file);
      const middle = Math.floor(size / 2);
      bytes[middle] ^= 0xff;
      response.end(bytes.subarray(start, end + 1));
    })();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    corrupt,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
