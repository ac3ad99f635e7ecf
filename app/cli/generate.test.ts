// `trit generate` as a user runs it: the real command in a child process, on the converted tiny
// demo package (public/models/demo) with a real photo.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const demo = join(root, 'public/models/demo');
const photo = join(root, 'app/test/data/images/chelsea.png');

async function trit(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [join(root, 'bin/trit.mjs'), 'generate', ...args], { cwd: root, maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('trit generate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trit-generate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('photo question as JSON with logits', async () => {
    const logits = join(dir, 'logits.bin');
    const out = await trit('--model', demo, '--image', photo, '--prompt', 'What is in the photo?', '--max-new-tokens', '3', '--json', '--dump-logits', logits);
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout);
    const marker = result.promptIds.indexOf(-200);
    expect(marker).toBeGreaterThan(0);
    expect(result.promptIds.filter((id: number) => id === -200)).toHaveLength(1);
    expect(result.tokens).toHaveLength(3);
    expect(result.stopReason).toBe('max_tokens');
    expect(typeof result.text).toBe('string');
    expect(result.timings.imageEncodeMs).toBeGreaterThan(0);
    expect(result.timings.prefillMs).toBeGreaterThan(0);
    // One row of embedding-size float32 logits per token; each row's argmax is the greedy token.
    const manifest = JSON.parse(readFileSync(join(demo, 'manifest.json'), 'utf8'));
    const { embeddingSize, vocabSize } = manifest.model.llm;
    expect(statSync(logits).size).toBe(3 * embeddingSize * 4);
    const rows = new Float32Array(readFileSync(logits).buffer.slice(0));
    result.tokens.forEach((token: number, i: number) => {
      const row = rows.subarray(i * embeddingSize, (i + 1) * embeddingSize);
      let best = 0;
      for (let j = 1; j < vocabSize; j++) if (row[j] > row[best]) best = j;
      expect(token).toBe(best);
    });
  }, 180_000);

  it('text-only answer on stdout', async () => {
    const json = await trit('--model', demo, '--prompt', 'Hello', '--max-new-tokens', '4', '--json');
    expect(json.code, json.stderr).toBe(0);
    const expected = JSON.parse(json.stdout);
    expect(expected.promptIds).not.toContain(-200);
    const text = await trit('--model', demo, '--prompt', 'Hello', '--max-new-tokens', '4');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe(`${expected.text}\n`);
  }, 180_000);

  it('keeps <image> in the question as text', async () => {
    const out = await trit('--model', demo, '--image', photo, '--prompt', 'Is <image> a tag?', '--max-new-tokens', '1', '--json');
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result.promptIds.filter((id: number) => id === -200)).toHaveLength(1);
  }, 180_000);

  it('missing package or photo fails', async () => {
    const missing = await trit('--model', '/nonexistent/package', '--prompt', 'Hi');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/trit generate: .*\/nonexistent\/package/);
    const photoMissing = await trit('--model', demo, '--image', '/nonexistent/cat.png', '--prompt', 'Hi');
    expect(photoMissing.code).not.toBe(0);
    expect(photoMissing.stderr).toMatch(/trit generate: .*\/nonexistent\/cat\.png/);
  }, 60_000);
});
