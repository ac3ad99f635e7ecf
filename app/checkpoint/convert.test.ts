import { createServer, type Server } from 'node:http';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertPath, DEFAULT_TOKENIZER } from '../cli/convert.ts';
import { unpackTernary } from '../engine/ternary/pack.ts';
import { MemoryByteSource } from './bytes.ts';
import { readFloats, type Checkpoint } from './checkpoint.ts';
import { openCheckpointPath } from './checkpoint.node.ts';
import { convertCheckpoint } from './convert.ts';
import { f16BitsToNumber } from './dtypes.ts';
import { IntegrityError, ModelConfigError } from './errors.ts';
import { canonicalName, resolveLayout } from './layout.ts';
import type { PackageManifest, TensorSource } from './manifest.ts';
import { openPackage } from './package.node.ts';
import { openSafetensors } from './safetensors.ts';
import { DirectorySink } from './sink.node.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const tiny = join(fixtures, 'tiny');
const SHARD_BYTES = 40_000;

let work: string;
let packageDir: string;
let manifest: PackageManifest;
let source: Checkpoint;
const reference: Record<string, { sw: number; codes: string }> = JSON.parse(await readFile(join(tiny, 'expected.json'), 'utf8'));

/** Ternarizes as BitLinear158 does, written out here independently of pack.ts: sw = 1 / max(mean|W|, 1e-5), round half to even, clamp. */
function referenceTernary(values: ArrayLike<number>): { sw: number; codes: number[] } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.abs(values[i]);
  const sw = 1 / Math.max(sum / values.length, 1e-5);
  const codes = Array.from(values, (w) => {
    const x = w * sw;
    let r = Math.floor(x);
    const fraction = x - r;
    if (fraction > 0.5 || (fraction === 0.5 && r % 2 !== 0)) r += 1;
    return Math.max(-1, Math.min(1, r));
  });
  return { sw, codes };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'trit-convert-test-'));
  packageDir = join(work, 'package');
  manifest = await convertPath(tiny, packageDir, { shardBytes: SHARD_BYTES, name: 'tiny test' });
  source = (await openCheckpointPath(tiny)).checkpoint;
});

afterAll(async () => {
  await source?.close();
  await rm(work, { recursive: true, force: true });
});

function sourceTensor(canonical: string) {
  for (const tensor of source.tensors.values()) if (canonicalName(tensor.name) === canonical) return tensor;
  throw new Error(`no source tensor for ${canonical}`);
}

async function checkEveryTensor(pkg: TensorSource): Promise<void> {
  for (const [name, entry] of Object.entries(pkg.manifest.tensors)) {
    const bytes = await pkg.readTensor(name);
    const original = await readFloats(sourceTensor(name));
    expect(entry.shape, name).toEqual(sourceTensor(name).shape);
    expect(bytes.length, name).toBe(entry.bytes);
    if (entry.dtype === 'ternary2') {
      const [rows, cols] = entry.shape;
      const codes = Array.from(unpackTernary(new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4), rows, cols));
      const ours = referenceTernary(original);
      expect(entry.scale, name).toBe(ours.sw);
      expect(codes, name).toEqual(ours.codes);
      // The same reference computed by PyTorch in float64 when the fixture was written.
      const python = reference[sourceTensor(name).name];
      expect(entry.scale, name).toBe(python.sw);
      expect(codes.map((c) => c + 1).join(''), name).toBe(python.codes);
    } else if (entry.dtype === 'f32') {
      expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)), name).toEqual(Array.from(original));
    } else {
      expect(entry.dtype, name).toBe('f16');
      const half = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
      for (let i = 0; i < original.length; i++) {
        const error = Math.abs(f16BitsToNumber(half[i]) - original[i]);
        // Half of an f16 ulp: 2^-11 relative for normal numbers, 2^-25 absolute below 2^-14.
        const bound = Math.max(Math.abs(original[i]) * 2 ** -11, 2 ** -25);
        if (error > bound) expect.fail(`${name}[${i}]: f16 ${f16BitsToNumber(half[i])} is not the rounding of ${original[i]}`);
      }
    }
  }
}

describe('convert', () => {
  it('packages every tensor the model needs', () => {
    const names = Object.keys(manifest.tensors);
    expect(names).toContain('transformer.wte.weight');
    expect(names).toContain('transformer.blocks.1.ff_out.weight');
    expect(names).toContain('vision_tower.vision_model.encoder.layers.1.mlp.fc2.bias');
    expect(names).toContain('mm_projector.2.bias');
    expect(names).not.toContain('lm_head.weight');
    expect(names.some((n) => n.includes('encoder.layers.2.'))).toBe(false);
    expect(names.some((n) => n.includes('post_layernorm'))).toBe(false);
    expect(manifest.tensors['transformer.blocks.0.att_proj.weight'].dtype).toBe('ternary2');
    expect(manifest.tensors['transformer.wte.weight'].dtype).toBe('f16');
    expect(manifest.tensors['vision_tower.vision_model.embeddings.position_embedding.weight'].dtype).toBe('f32');
    expect(manifest.tensors['mm_projector.0.bias'].dtype).toBe('f32');
  });

  it('resolves the model config from shapes', () => {
    expect(manifest.model.llm).toMatchObject({ dModel: 32, nHeads: 2, nLayers: 2, mlpHidden: 64, vocabSize: 100, embeddingSize: 128 });
    expect(manifest.model.vision).toMatchObject({ hiddenSize: 32, numLayers: 3, layersUsed: 2, imageSize: 336, patchSize: 14, intermediateSize: 64 });
    expect(manifest.model.projector).toEqual({ type: 'mlp2x_gelu', inDim: 32, outDim: 32 });
    expect(manifest.model.image.background).toEqual([122, 116, 104]);
    expect(manifest.name).toBe('tiny test');
  });

  it('reads every tensor back from the package folder', async () => {
    await checkEveryTensor(await openPackage(packageDir));
  });

  it('writes valid safetensors shards of bounded size', async () => {
    expect(manifest.shards.length).toBeGreaterThan(2);
    for (const shard of manifest.shards) {
      const bytes = new Uint8Array(await readFile(join(packageDir, shard.file)));
      expect(bytes.length).toBe(shard.bytes);
      const parsed = await openSafetensors(new MemoryByteSource(bytes, shard.file));
      const inShard = Object.entries(manifest.tensors).filter(([, e]) => manifest.shards[e.shard] === shard);
      for (const [name, entry] of inShard) {
        expect(parsed.tensors.has(name), name).toBe(true);
        expect(entry.offset % 4, name).toBe(0);
        expect(Array.from(await parsed.tensors.get(name)!.readBytes()), name).toEqual(Array.from(bytes.subarray(entry.offset, entry.offset + entry.bytes)));
      }
      const largest = Math.max(...inShard.map(([, e]) => e.bytes));
      if (inShard.length > 1) expect(bytes.length - largest).toBeLessThan(SHARD_BYTES);
    }
  });

  it('includes the tokenizer', async () => {
    const pkg = await openPackage(packageDir);
    expect(await pkg.readTokenizer()).toBe(await readFile(DEFAULT_TOKENIZER, 'utf8'));
  });

  it('reads the package over HTTP with ranges', async () => {
    const requests: string[] = [];
    const server: Server = createServer(async (request, response) => {
      const file = join(packageDir, decodeURIComponent(new URL(request.url!, 'http://x').pathname));
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch {
        response.writeHead(404).end();
        return;
      }
      const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
      requests.push(`${request.method} ${request.url} ${request.headers.range ?? ''}`);
      if (range) {
        const [start, end] = [Number(range[1]), Number(range[2])];
        response.writeHead(206, { 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${body.length}` });
        response.end(request.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
      } else {
        response.writeHead(200, { 'Content-Length': body.length });
        response.end(request.method === 'HEAD' ? undefined : body);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const pkg = await openPackage(`http://127.0.0.1:${port}`);
      await checkEveryTensor(pkg);
      expect(requests.some((r) => r.includes('bytes=0-'))).toBe(true);
    } finally {
      server.close();
    }
  });

  it('converts a sharded safetensors set identically', async () => {
    const other = await convertPath(join(fixtures, 'tiny-safetensors', 'model.safetensors.index.json'), join(work, 'from-safetensors'), { shardBytes: SHARD_BYTES, name: 'tiny test' });
    expect(other.tensors).toEqual(manifest.tensors);
    expect(other.shards).toEqual(manifest.shards);
  });

  it('rejects a folder without a manifest', async () => {
    await expect(openPackage(fixtures)).rejects.toThrow(/fixtures contains a checkpoint, not a Trit package \(it has no manifest\.json\); convert it first/);
  });

  it('rejects a shard whose SHA-256 differs', async () => {
    const copy = join(work, 'damaged');
    await convertPath(tiny, copy, { shardBytes: SHARD_BYTES });
    const shardFile = join(copy, manifest.shards[1].file);
    const bytes = await readFile(shardFile);
    bytes[bytes.length - 5] ^= 1;
    await writeFile(shardFile, bytes);
    const pkg = await openPackage(copy);
    const inShard = Object.keys(pkg.manifest.tensors).find((n) => pkg.manifest.tensors[n].shard === 1)!;
    await expect(pkg.readTensor(inShard)).rejects.toThrow(IntegrityError);
    await expect(pkg.readTensor(inShard)).rejects.toThrow(/has SHA-256 [0-9a-f]{64} but the manifest/);
  });
});

describe('convert errors', () => {
  async function folderWith(config: (c: Record<string, unknown>) => void, bin?: (b: Buffer) => Buffer | Promise<Buffer>): Promise<string> {
    const dir = await mkdtemp(join(work, 'input-'));
    const json = JSON.parse(await readFile(join(tiny, 'config.json'), 'utf8'));
    config(json);
    await writeFile(join(dir, 'config.json'), JSON.stringify(json));
    if (bin) await writeFile(join(dir, 'pytorch_model.bin'), await bin(await readFile(join(tiny, 'pytorch_model.bin'))));
    else await copyFile(join(tiny, 'pytorch_model.bin'), join(dir, 'pytorch_model.bin'));
    return dir;
  }

  /** Converts and expects failure with `message`, leaving neither the output folder nor a temporary folder. */
  async function expectFailure(input: string, message: RegExp): Promise<void> {
    const parent = await mkdtemp(join(work, 'out-'));
    await expect(convertPath(input, join(parent, 'package'))).rejects.toThrow(message);
    expect(await readdir(parent)).toEqual([]);
  }

  it('rejects a config disagreeing with a shape', async () => {
    const input = await folderWith((c) => (c.d_model = 64));
    await expectFailure(input, /d_model is 64, but tensor "model\.transformer\.wte\.weight" of shape \[128, 32\] gives 32/);
  });

  it('rejects an unimplemented switch value', async () => {
    const input = await folderWith((c) => (c.layer_norm_type = 'low_precision'));
    await expectFailure(input, /layer_norm_type is "low_precision", which Trit does not implement/);
  });

  it('rejects a vision config disagreeing with a shape', async () => {
    const input = await folderWith((c) => ((c.vision_config as Record<string, unknown>).image_size = 224));
    await expectFailure(input, /vision_config\.image_size is 224, but .* gives 336/);
  });

  it('rejects a truncated checkpoint', async () => {
    const input = await folderWith(
      () => {},
      (b) => b.subarray(0, b.length - 200),
    );
    await expectFailure(input, /not a readable zip archive/);
  });

  const badFiles: [string, (tiny: Buffer) => Promise<Buffer>, RegExp][] = [
    ['an empty file', async () => Buffer.alloc(0), /is empty \(0 bytes\)/],
    ['an HTML page', async () => Buffer.from('<!doctype html><p>Please log in</p>'), /not a checkpoint Trit can read/],
    ['a legacy torch file', () => readFile(join(fixtures, 'legacy.pt')), /legacy \(pre-zip\) PyTorch file/],
    ['a pickle calling os.system', () => readFile(join(fixtures, 'os_system.pt')), /"os\.system"/],
    ['a cut-off zip', async (b) => b.subarray(0, b.length / 2), /not a readable zip archive/],
  ];
  for (const [what, contents, message] of badFiles) {
    it(`rejects ${what} without output`, async () => {
      const input = await folderWith(() => {}, contents);
      await expectFailure(input, message);
    });
  }

  it('lists every missing tensor in one error', async () => {
    const all = [...source.tensors.values()];
    const dropped = all.filter((t) => !t.name.endsWith('blocks.1.ff_out.weight') && !t.name.endsWith('mm_projector.2.bias'));
    expect(() => resolveLayout(dropped, null)).toThrow(ModelConfigError);
    expect(() => resolveLayout(dropped, null)).toThrow(/lacks 2 tensors the model needs: transformer\.blocks\.1\.ff_out\.weight, mm_projector\.2\.bias/);

    const parent = await mkdtemp(join(work, 'out-'));
    const partial: Checkpoint = { name: 'partial', tensors: new Map(dropped.map((t) => [t.name, t])), close: async () => {} };
    const sink = await DirectorySink.create(join(parent, 'package'));
    await expect(convertCheckpoint(partial, null, sink, { name: 'x', tokenizer: new Uint8Array(1) })).rejects.toThrow(/lacks 2 tensors/);
    expect(await readdir(parent)).toEqual([]);
  });

  const badConfigs: [Record<string, unknown>, RegExp][] = [
    [{ mm_projector_type: 'identity' }, /mm_projector_type is "identity", which Trit does not implement/],
    [{ image_aspect_ratio: 'anyres' }, /image_aspect_ratio is "anyres", which Trit does not implement/],
    [{ activation_type: 'gelu' }, /activation_type is "gelu", which Trit does not implement/],
    [{ attention_layer_norm: true }, /attention_layer_norm is true, which Trit does not implement/],
    [{ n_kv_heads: 1 }, /n_kv_heads is 1, which Trit does not implement/],
    [{ mm_vision_select_layer: -5 }, /mm_vision_select_layer -5 selects no encoder layer of the 3/],
    [{ n_layers: 3 }, /n_layers is 3, but the checkpoint's 2 transformer\.blocks gives 2/],
    [{ mlp_ratio: 8 }, /mlp_ratio is 8, but tensor "model\.transformer\.blocks\.0\.ff_proj\.weight" of shape \[128, 32\] gives 4/],
    [{ mm_hidden_size: 1024 }, /mm_hidden_size is 1024, but the projector input width gives 32/],
    [{ n_heads: 3 }, /n_heads 3 does not divide d_model 32/],
  ];
  for (const [change, message] of badConfigs) {
    it(`rejects config ${JSON.stringify(change)}`, async () => {
      const config = { ...JSON.parse(await readFile(join(tiny, 'config.json'), 'utf8')), ...change };
      expect(() => resolveLayout(source.tensors.values(), config)).toThrow(ModelConfigError);
      expect(() => resolveLayout(source.tensors.values(), config)).toThrow(message);
    });
  }

  it('applies block norm weights when present', () => {
    const tensors = [...source.tensors.values()];
    const norm = (name: string) => ({ name: `model.transformer.${name}`, dtype: 'bf16' as const, shape: [32], readBytes: async () => new Uint8Array(64) });
    const withNorms = [...tensors, norm('blocks.0.attn_norm.weight'), norm('blocks.0.ff_norm.weight'), norm('blocks.1.attn_norm.weight'), norm('blocks.1.ff_norm.weight'), norm('ln_f.weight')];
    const layout = resolveLayout(withNorms, null);
    expect(layout.config.llm.layerNormWithAffine).toBe(true);
    expect(layout.tensors.map((t) => t.name)).toContain('transformer.ln_f.weight');
    expect(layout.tensors.find((t) => t.name === 'transformer.blocks.1.ff_norm.weight')?.storage).toBe('f32');
    expect(() => resolveLayout(withNorms.slice(0, -1), null)).toThrow(/lacks 1 tensor the model needs: transformer\.ln_f\.weight/);
    expect(() => resolveLayout(withNorms, { layer_norm_with_affine: false })).toThrow(/layer_norm_with_affine is false, but the checkpoint has block norm weights/);
  });

  it('lists unexpected and skipped tensors', async () => {
    const extra = { name: 'model.extra_head.weight', dtype: 'bf16' as const, shape: [2], readBytes: async () => new Uint8Array(4) };
    const layout = resolveLayout([...source.tensors.values(), extra], null);
    expect(layout.unexpected).toEqual(['model.extra_head.weight']);
    expect(layout.skipped.some((s) => s.startsWith('model.lm_head.weight'))).toBe(true);
  });

  it('rejects a checkpoint path that does not exist', async () => {
    await expectFailure(join(work, 'no-such-checkpoint'), /no-such-checkpoint not found; pass a checkpoint file or the folder/);
  });

  it('rejects a non-empty output folder', async () => {
    await expect(convertPath(tiny, packageDir)).rejects.toThrow(/already exists and is not empty/);
  });
});
