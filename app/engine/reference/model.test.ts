import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestPackage, testPixels, TINY_SHAPE } from '../model/test-package.ts';
import { decodeHalf } from '../model/half.ts';
import { unpackTernary } from '../ternary/pack.ts';
import { erf } from './activation.ts';
import { ReferenceCache, ReferenceModel } from './model.ts';

const script = fileURLToPath(new URL('./torch_reference.py', import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Writes the package and a prompt for torch_reference.py and returns its logits, [n, embeddingSize]. */
async function torchLogits(model: ReferenceModel, source: ReturnType<typeof buildTestPackage>, promptIds: number[], pixels: Float32Array): Promise<Float32Array> {
  const dir = mkdtempSync(join(tmpdir(), 'trit-ref-'));
  dirs.push(dir);
  const tensors: Record<string, number[]> = {};
  const files: Record<string, string> = {};
  const scales: Record<string, number> = {};
  let i = 0;
  for (const [name, entry] of Object.entries(source.manifest.tensors)) {
    const bytes = await source.readTensor(name);
    let values: Float32Array;
    let key = name;
    if (entry.dtype === 'ternary2') {
      key = name.replace(/\.weight$/, '.codes');
      scales[name.replace(/\.weight$/, '')] = entry.scale!;
      values = Float32Array.from(unpackTernary(new Uint32Array(bytes.slice().buffer), entry.shape[0], entry.shape[1]));
    } else {
      values = decodeHalf(bytes);
    }
    tensors[key] = entry.shape;
    files[key] = `t${i++}.f32`;
    writeFileSync(join(dir, files[key]), values);
  }
  writeFileSync(join(dir, 'pixels.f32'), pixels);
  writeFileSync(join(dir, 'case.json'), JSON.stringify({ ...model.dims, tensors, files, scales, promptIds }));
  execFileSync('/usr/bin/python3', [script, dir], { stdio: 'pipe' });
  return new Float32Array(readFileSync(join(dir, 'logits.f32')).buffer.slice(0));
}

function std(values: Float32Array): number {
  let mean = 0;
  for (const v of values) mean += v / values.length;
  let s = 0;
  for (const v of values) s += (v - mean) ** 2 / values.length;
  return Math.sqrt(s);
}

describe('CPU reference', () => {
  it('erf matches known values', () => {
    expect(erf(0)).toBe(0);
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(-1)).toBeCloseTo(-0.8427007929497149, 14);
    expect(erf(2.4)).toBeCloseTo(0.9993114861033550, 14);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 14);
  });

  it('matches an independent PyTorch model', async () => {
    const source = buildTestPackage();
    const model = await ReferenceModel.load(source);
    const pixels = testPixels(TINY_SHAPE.imageSize);
    const promptIds = [11, 12, 13, -200, 14, 15, 16, 17];
    const image = model.encodeImage(pixels);
    const ours = model.forward(model.embed(promptIds, image), new ReferenceCache(model.dims));
    const theirs = await torchLogits(model, source, promptIds, pixels);
    expect(ours.length).toBe(theirs.length);
    // Both compute in double precision from the same values; only f32 storage of activations differs.
    const tolerance = 1e-4 * std(theirs);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
    expect(worst).toBeLessThan(tolerance);
  });

  it('step decoding matches full prefill', async () => {
    const model = await ReferenceModel.load(buildTestPackage());
    const ids = [3, 4, 5, 6, 7, 8];
    const full = model.forward(model.embed(ids), new ReferenceCache(model.dims));
    const cache = new ReferenceCache(model.dims);
    model.forward(model.embed(ids.slice(0, 4)), cache);
    const rest = model.forward(model.embed(ids.slice(4)), cache);
    const V = model.dims.llm.embeddingSize;
    expect(Array.from(rest)).toEqual(Array.from(full.slice(4 * V)));
  });
});
