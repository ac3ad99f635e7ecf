/**
 * Package server for the browser tests. It serves a generated package or a package folder on
 * 127.0.0.1 under `/pkg/`, with Range support and CORS, and records every request.
 * On request through `Faults`, it cuts a response mid-file, corrupts a file's bytes for a given
 * number of responses or for all of them, returns an HTTP error, or sends slowly so that a test
 * can pause a download midway.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';
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
  /** Path below the package URL, e.g. `manifest.json`. */
  file: string;
  range: string | undefined;
  status: number;
  /** Body bytes written before the response ended or was cut. */
  bytesSent: number;
}

export interface Faults {
  /** Cut the response of `file` once it reaches byte `atByte` of the file, `times` times. */
  cut?: { file: string; atByte: number; times: number };
  /** Flip bytes in the response of `file`, `times` times (`Infinity`: every time). The length stays right. */
  corrupt?: { file: string; times: number };
  /** Respond to the requests for `file` with this HTTP status, after letting the first `skip` through. */
  status?: { file: string; code: number; skip?: number };
  /** Send bodies at about this many bytes per second. */
  bytesPerSecond?: number;
}

export interface PackageServer {
  /** Package folder URL, ending in a slash. */
  url: string;
  /** Requests so far, in order (CORS preflights left out). */
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

/** Reads `file` from the in-memory package, or from the folder (read on each request, so edits show). */
async function readSource(source: TestPackage | string, file: string): Promise<Uint8Array | undefined> {
  if (typeof source !== 'string') return source.files.get(file);
  const path = normalize(join(source, file));
  if (!path.startsWith(normalize(source) + sep)) return undefined;
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

/** Writes `body` in 64 KiB pieces, waiting between them to keep to `bytesPerSecond`; stops when the client goes away. */
async function sendThrottled(response: ServerResponse, body: Uint8Array, bytesPerSecond: number): Promise<void> {
  const piece = 64 * 1024;
  for (let offset = 0; offset < body.length && !response.destroyed; offset += piece) {
    response.write(body.subarray(offset, offset + piece));
    await new Promise((resolve) => setTimeout(resolve, (piece / bytesPerSecond) * 1000));
  }
}

/**
 * Starts the server on an ephemeral port of 127.0.0.1, serving `source` (a generated package, or
 * the path of a package folder) under `/pkg/`.
 */
export async function startPackageServer(source: TestPackage | string): Promise<PackageServer> {
  const requests: RequestRecord[] = [];
  const state: PackageServer = { url: '', requests, faults: {}, close: async () => undefined };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges');
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    const file = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/^\/pkg\//, ''));
    const record: RequestRecord = { file, range: req.headers.range, status: 0, bytesSent: 0 };
    requests.push(record);
    const body = await readSource(source, file);

    const { faults } = state;
    if (!body) {
      record.status = 404;
      res.writeHead(404).end(`not found: ${file}`);
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
      'Content-Type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      'Content-Length': String(data.byteLength),
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'no-store',
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${body.byteLength}` } : {}),
    });

    const cut = faults.cut;
    const cutHere = cut?.file === file && cut.times > 0 && cut.atByte > start && cut.atByte <= end;
    if (cutHere) {
      cut.times--;
      data = data.subarray(0, cut.atByte - start);
    }
    record.bytesSent = data.byteLength;
    // A cut drops the connection after the first part, so the browser receives a truncated body.
    const finish = cutHere ? () => void setTimeout(() => res.socket?.destroy(), 50) : () => void res.end();
    if (faults.bytesPerSecond) {
      await sendThrottled(res, data, faults.bytesPerSecond);
      finish();
    } else if (cutHere) {
      res.write(data, finish);
    } else {
      res.end(data);
    }
  };

  const server = createServer((req, res) => void handle(req, res));
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
