/**
 * Random-access byte sources for checkpoint and package readers. A reader asks for the ranges it
 * needs, so a multi-gigabyte checkpoint is never held in memory at once.
 */

/** Bytes that can be read at any offset. */
export interface ByteSource {
  /** Name shown in error messages (a file path, a URL, a file name). */
  readonly name: string;
  /** Total length in bytes. */
  readonly size: number;
  /** Reads `length` bytes at `offset`; fails if the range goes past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the underlying handle; later reads fail. */
  close(): Promise<void>;
}

/** The file or URL does not exist: a missing file, HTTP 404 or 410, or a web page where a file was expected. */
export class InputNotFoundError extends Error {
  override name = 'InputNotFoundError';

  constructor(
    message: string,
    /** Short reason for callers that word their own message, e.g. "HTTP 404". */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The server of a URL could not be reached (refused, unknown host, timed out, TLS failure). */
export class NetworkError extends Error {
  override name = 'NetworkError';
}

/** A read that would go past the end of the source: a truncated or damaged file. */
export class TruncatedInputError extends Error {
  override name = 'TruncatedInputError';
}

export function checkRange(source: { name: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`${source.name}: invalid read of ${length} bytes at offset ${offset}.`);
  }
  if (offset + length > source.size) {
    throw new TruncatedInputError(
      `${source.name} is truncated: it has ${source.size} bytes but a read needs bytes ${offset}–${offset + length}. ` +
        'Download the file again.',
    );
  }
}

/** A source over bytes already in memory (tests, small files). */
export class MemoryByteSource implements ByteSource {
  readonly size: number;

  constructor(
    private readonly bytes: Uint8Array,
    readonly name = 'memory',
  ) {
    this.size = bytes.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    return this.bytes.subarray(offset, offset + length);
  }

  async close(): Promise<void> {}
}

/** A source over a browser `File` or `Blob`; each read slices the blob, so the file is never loaded whole. */
export class BlobByteSource implements ByteSource {
  readonly size: number;
  readonly name: string;

  constructor(
    private readonly blob: Blob,
    name?: string,
  ) {
    this.size = blob.size;
    this.name = name ?? ('name' in blob && typeof blob.name === 'string' ? blob.name : 'blob');
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    return new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
  }

  async close(): Promise<void> {}
}

/**
 * Fetches `url`, turning a network failure (fetch's bare "fetch failed") into a `NetworkError`
 * that names the URL and the reason, e.g. ECONNREFUSED.
 */
async function fetchOrExplain(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    let reason = cause?.code ?? cause?.message ?? (error as Error).message;
    // The Fetch standard blocks some ports (1, 7, 9, 25, 6000 and others) to protect non-HTTP services.
    if (reason === 'bad port') reason = 'fetch refuses this port, which the Fetch standard blocks; serve the package on another port';
    throw new NetworkError(`Cannot reach ${url} (${reason}); check the URL and that the server is running.`);
  }
}

/**
 * Byte source for an http(s) URL, read with `Range` requests. The server must send
 * `Content-Length` and respond to range requests with 206.
 */
export class HttpByteSource implements ByteSource {
  private constructor(
    readonly name: string,
    readonly size: number,
  ) {}

  static async open(url: string): Promise<HttpByteSource> {
    const response = await fetchOrExplain(url, { method: 'HEAD' });
    if (response.status === 404 || response.status === 410) {
      throw new InputNotFoundError(`Nothing was found at ${url} (HTTP ${response.status}); check the URL.`, `HTTP ${response.status}`);
    }
    if (!response.ok) throw new Error(`${url}: HEAD request failed with HTTP ${response.status}; check the URL and the server.`);
    // No package or checkpoint file is a web page; servers of single-page apps return index.html for unknown paths.
    const contentType = response.headers.get('content-type') ?? '';
    if (/^text\/html\b/i.test(contentType)) {
      throw new InputNotFoundError(
        `Nothing was found at ${url}: the server sent a web page (${contentType}) instead of the file; check the URL.`,
        `the server sent a web page, ${contentType}`,
      );
    }
    const length = Number(response.headers.get('content-length'));
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new Error(`${url}: the server sent no Content-Length, so the file cannot be read in ranges.`);
    }
    return new HttpByteSource(url, length);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    if (length === 0) return new Uint8Array(0);
    const response = await fetchOrExplain(this.name, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
    if (response.status !== 206 && !(response.status === 200 && offset === 0 && length === this.size)) {
      throw new Error(`${this.name}: range request for bytes ${offset}–${offset + length} failed with HTTP ${response.status}. Serve the file from a server that responds to Range requests with 206.`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length !== length) {
      throw new TruncatedInputError(`${this.name}: requested ${length} bytes at offset ${offset} but received ${bytes.length}. Check that the file on the server is complete.`);
    }
    return bytes;
  }

  async close(): Promise<void> {}
}
