/**
 * A package server for the download tests: serves a generated package on 127.0.0.1 with Range
 * support and CORS, records every request, and injects faults on demand (cut a response after
 * some bytes, corrupt a file's bytes, answer with an HTTP error).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_CHAT_TEMPLATE, PACKAGE_FORMAT, PACKAGE_FORMAT_VERSION, type PackageManifest, type TensorEntry } from '../app/checkpoint/manifest.ts';

export interface TestPackage {
  manifest: PackageManifest;
  /** File name → bytes, `manifest.json` included. */
  files: Map<string, Uint8Array>;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Builds a package whose shards hold random tensors of the given byte sizes, laid out back to back
 * after a 64-byte stand-in for the safetensors header. The model config is a placeholder: these
 * tests exercise storage, not the model.
 */
export function makeTestPackage(shardTensorBytes: number[][], name = 'download test package'): TestPackage {
  const files = new Map<string, Uint8Array>();
  const tensors: Record<string, TensorEntry> = {};
  const shards = shardTensorBytes.map((sizes, shard) => {
    const file = `model-${shard}.safetensors`;
    const header = 64;
    const bytes = new Uint8Array(header + sizes.reduce((a, b) => a + b, 0));
    bytes.set(randomBytes(bytes.byteLength));
    let offset = header;
    sizes.forEach((size, i) => {
      tensors[`shard${shard}.tensor${i}`] = { dtype: 'f16', shape: [size / 2], shard, offset, bytes: size };
      offset += size;
    });
    files.set(file, bytes);
    return { file, bytes: bytes.byteLength, sha256: sha256(bytes) };
  });
  const tokenizer = new TextEncoder().encode(JSON.stringify({ model: { type: 'BPE', vocab: { a: 0, b: 1 } }, note: 'x'.repeat(5000) }));
  files.set('tokenizer.json', tokenizer);

  const manifest: PackageManifest = {
    format: PACKAGE_FORMAT,
    formatVersion: PACKAGE_FORMAT_VERSION,
    name,
    randomWeights: true,
    model: {} as PackageManifest['model'],
    chatTemplate: DEFAULT_CHAT_TEMPLATE,
    tokenizer: { file: 'tokenizer.json', bytes: tokenizer.byteLength, sha256: sha256(tokenizer) },
    shards,
    tensors,
  };
  files.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)));
  return { manifest, files };
}

export interface RequestRecord {
  file: string;
  range: string | undefined;
  status: number;
  /** Body bytes written before the response ended or was cut. */
  bytesSent: number;
}

export interface Faults {
  /** Cut the response of `file` once it reaches byte `atByte` of the file, `times` times. */
  cut?: { file: string; atByte: number; times: number };
  /** Flip bytes in the response of `file`, `times` times. */
  corrupt?: { file: string; times: number };
  /** Answer the requests for `file` with this HTTP status, after letting the first `skip` through. */
  status?: { file: string; code: number; skip?: number };
}

export interface PackageServer {
  /** Package folder URL, ending in a slash. */
  url: string;
  requests: RequestRecord[];
  faults: Faults;
  close(): Promise<void>;
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const match = header ? /^bytes=(\d+)-(\d*)$/.exec(header) : null;
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  return { start, end };
}

/** Starts the server on an ephemeral port of 127.0.0.1, serving `pkg` under `/pkg/`. */
export async function startPackageServer(pkg: TestPackage): Promise<PackageServer> {
  const requests: RequestRecord[] = [];
  const state: PackageServer = { url: '', requests, faults: {}, close: async () => undefined };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges');
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    const file = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/^\/pkg\//, ''));
    const body = pkg.files.get(file);
    const record: RequestRecord = { file, range: req.headers.range, status: 0, bytesSent: 0 };
    requests.push(record);

    const { faults } = state;
    if (!body) {
      record.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    if (faults.status?.file === file && (faults.status.skip ?? 0) > 0) {
      faults.status.skip!--;
    } else if (faults.status?.file === file) {
      record.status = faults.status.code;
      res.writeHead(faults.status.code).end('injected failure');
      return;
    }

    const range = parseRange(req.headers.range, body.byteLength);
    const start = range?.start ?? 0;
    const end = range?.end ?? body.byteLength - 1;
    let data = body.subarray(start, end + 1);
    if (faults.corrupt?.file === file && faults.corrupt.times > 0) {
      faults.corrupt.times--;
      data = Uint8Array.from(data);
      for (let i = 0; i < data.byteLength; i += 4096) data[i] ^= 0xff;
    }
    record.status = range ? 206 : 200;
    res.writeHead(record.status, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(data.byteLength),
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'no-store',
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${body.byteLength}` } : {}),
    });

    const cut = faults.cut;
    if (cut?.file === file && cut.times > 0 && cut.atByte > start && cut.atByte <= end) {
      cut.times--;
      const part = data.subarray(0, cut.atByte - start);
      record.bytesSent = part.byteLength;
      // Send the first part, then drop the connection so the browser sees a truncated body.
      res.write(part, () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    record.bytesSent = data.byteLength;
    res.end(data);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}/pkg/`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
