// Bad input to `trit` as a user meets it: the real command runs in a child process. Each case
// checks for one line on stderr that starts with `trit <command>:` and names the input and the
// fix, and checks the exit code (2 for usage mistakes, 1 for failures).
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const demo = join(root, 'public/models/demo');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function trit(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run('node', [join(root, 'bin/trit.mjs'), ...args], { cwd: root, env, maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Checks that `outcome` failed with `code` and exactly one stderr line matching `line`. */
function expectOneLine(outcome: Outcome, code: number, line: RegExp | string): void {
  expect(outcome.code, outcome.stderr).toBe(code);
  const lines = outcome.stderr.trimEnd().split('\n');
  expect(lines, outcome.stderr).toHaveLength(1);
  if (typeof line === 'string') expect(lines[0]).toBe(line);
  else expect(lines[0]).toMatch(line);
}

let work: string;
let server: Server;
let baseUrl: string;

/**
 * Serves `demo` under /models/demo/ with HEAD and Range support. /missing/ returns 404, and every
 * other path gets index.html with status 200, as single-page app servers do.
 */
function servePackage(request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse): void {
  const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
  if (path.startsWith('/missing/')) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const prefix = '/models/demo/';
  const file = path.startsWith(prefix) ? join(demo, path.slice(prefix.length)) : '';
  let size = -1;
  try {
    if (file) size = statSync(file).size;
  } catch {
    size = -1;
  }
  if (size < 0) {
    const page = '<!doctype html><html><body>Trit</body></html>';
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length });
    response.end(request.method === 'HEAD' ? undefined : page);
    return;
  }
  const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
  const [start, end] = range ? [Number(range[1]), Number(range[2])] : [0, size - 1];
  response.writeHead(range ? 206 : 200, { 'content-type': 'application/octet-stream', 'content-length': end - start + 1 });
  response.end(request.method === 'HEAD' ? undefined : readFileSync(file).subarray(start, end + 1));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'trit-cli-errors-'));
  server = createServer(servePackage);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

describe('trit usage errors', () => {
  it('negative token count', async () => {
    const out = await trit(['generate', '--model', demo, '--prompt', 'Hi', '--max-new-tokens', '-3']);
    expectOneLine(out, 2, 'trit generate: --max-new-tokens must be a positive integer; got "-3".');
  });

  it('misspelt option suggests nearest', async () => {
    const out = await trit(['generate', '--model', demo, '--promt', 'Hi']);
    expectOneLine(out, 2, 'trit generate: Unknown option --promt. Did you mean --prompt?');
  });

  it('option without its value', async () => {
    const last = await trit(['generate', '--prompt', 'Hi', '--model']);
    expectOneLine(last, 2, 'trit generate: --model needs a value: write --model <value>.');
    const followed = await trit(['generate', '--model', '--json', '--prompt', 'Hi']);
    expectOneLine(followed, 2, /^trit generate: --model needs a value, but the next argument is the option --json\./);
  });

  it('missing required option', async () => {
    const out = await trit(['generate', '--model', demo]);
    expectOneLine(out, 2, /^trit generate: --prompt is required/);
  });

  it('invalid preset and shard size', async () => {
    const preset = await trit(['make-checkpoint', join(work, 'never'), '--preset', 'huge']);
    expectOneLine(preset, 2, 'trit make-checkpoint: --preset must be one of full, tiny; got "huge".');
    const shard = await trit(['convert', join(work, 'a'), join(work, 'b'), '--shard-mb', 'abc']);
    expectOneLine(shard, 2, 'trit convert: --shard-mb must be a positive number of MiB; got "abc".');
  });

  it('missing positional argument', async () => {
    const out = await trit(['convert', join(work, 'a')]);
    expectOneLine(out, 2, 'trit convert: Missing <out-dir>: the usage is trit convert <checkpoint> <out-dir> [options].');
  });

  it('bench without a target', async () => {
    const none = await trit(['bench']);
    expectOneLine(none, 2, /^trit bench: Missing --kernels or --model <package>/);
    const mixed = await trit(['bench', '--kernels', '--decode-tokens', '4']);
    expectOneLine(mixed, 2, 'trit bench: --decode-tokens applies to --model only, not to --kernels.');
  });

  it('unknown command suggests nearest', async () => {
    const out = await trit(['gen']);
    expectOneLine(out, 2, 'trit: Unknown command "gen". Did you mean generate?');
  });
});

describe('trit package errors', () => {
  it('checkpoint passed as package', async () => {
    const checkpoint = join(work, 'checkpoint');
    const created = await trit(['make-checkpoint', checkpoint, '--quiet']);
    expect(created.code, created.stderr).toBe(0);
    const file = join(checkpoint, 'pytorch_model.bin');
    const asFile = await trit(['generate', '--model', file, '--prompt', 'Hi']);
    expectOneLine(asFile, 1, `trit generate: ${file} is a checkpoint file, not a Trit package; convert it first with \`trit convert ${file} <out-dir>\` and pass <out-dir>.`);
    const asFolder = await trit(['generate', '--model', checkpoint, '--prompt', 'Hi']);
    expectOneLine(asFolder, 1, /^trit generate: .*\/checkpoint contains a checkpoint, not a Trit package .*trit convert/);
  });

  it('folder without a manifest', async () => {
    const empty = join(work, 'empty');
    mkdirSync(empty);
    const out = await trit(['generate', '--model', `${empty}/`, '--prompt', 'Hi']);
    expectOneLine(out, 1, `trit generate: No Trit package was found at ${empty} (manifest.json: ENOENT). Pass the folder or URL that \`trit convert\` wrote.`);
  });

  it('package missing a shard', async () => {
    const broken = join(work, 'broken');
    cpSync(demo, broken, { recursive: true });
    rmSync(join(broken, 'shard-00002.safetensors'));
    const out = await trit(['generate', '--model', broken, '--prompt', 'Hi', '--max-new-tokens', '1']);
    expect(out.code, out.stderr).toBe(1);
    expect(out.stderr).toContain(
      `trit generate: The package at ${broken} is incomplete: shard-00002.safetensors is missing (ENOENT). Convert or download the package again.`,
    );
    expect(out.stderr).not.toMatch(/no such file/);
  });

  it('unreachable URL', async () => {
    // A port that was just free: nothing listens on it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const url = `http://127.0.0.1:${port}/models/demo/`;
    const out = await trit(['generate', '--model', url, '--prompt', 'Hi']);
    expectOneLine(out, 1, `trit generate: Cannot reach ${url}manifest.json (ECONNREFUSED); check the URL and that the server is running.`);
  });

  it('URL returning 404', async () => {
    const out = await trit(['generate', '--model', `${baseUrl}/missing/nope/`, '--prompt', 'Hi']);
    expectOneLine(out, 1, `trit generate: No Trit package was found at ${baseUrl}/missing/nope (manifest.json: HTTP 404). Pass the folder or URL that \`trit convert\` wrote.`);
  });

  it('URL returning a web page', async () => {
    const out = await trit(['generate', '--model', `${baseUrl}/models/nope/`, '--prompt', 'Hi']);
    expectOneLine(out, 1, /^trit generate: No Trit package was found at http:\/\/127\.0\.0\.1:\d+\/models\/nope \(manifest\.json: the server sent a web page, text\/html; charset=utf-8\)\./);
    expect(out.stderr).not.toContain('//manifest.json');
  });
});

describe('trit generate stderr', () => {
  it('served package, only the random note', async () => {
    // As a user's shell has it: no VK_ICD_FILENAMES and no XDG_RUNTIME_DIR.
    const env = { ...process.env };
    delete env.VK_ICD_FILENAMES;
    delete env.XDG_RUNTIME_DIR;
    const out = await trit(['generate', '--model', `${baseUrl}/models/demo`, '--prompt', 'Hi', '--max-new-tokens', '2', '--json'], env);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).tokens).toHaveLength(2);
    expect(out.stdout).not.toContain('random weights');
    expect(out.stderr).toBe(
      'trit generate: note: the package "random demo" has random weights, so its answers are noise. Convert the published checkpoint for real answers.\n',
    );
  });
});
