import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../cli/args.ts';
import { command as convertCommand } from '../cli/convert.ts';
import { command } from '../cli/make-checkpoint.ts';
import { openCheckpointPath } from './checkpoint.node.ts';
import { RANDOM_WEIGHTS_CONFIG_KEY } from './convert.ts';
import { resolveLayout } from './layout.ts';
import { openPackage } from './package.node.ts';
import { PRESETS, randomTensors } from './random-checkpoint.ts';
import { writeTorchCheckpoint, type TensorSpec } from './torch-writer.node.ts';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'trit-make-checkpoint-test-'));
  expect(await command.run([join(work, 'a'), '--preset', 'tiny', '--seed', '7', '--quiet'])).toBe(0);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function expectTensors(path: string, specs: TensorSpec[]): Promise<void> {
  const { checkpoint } = await openCheckpointPath(path);
  try {
    expect([...checkpoint.tensors.keys()]).toEqual(specs.map((t) => t.name));
    for (const spec of specs) {
      const tensor = checkpoint.tensors.get(spec.name)!;
      expect(tensor.dtype, spec.name).toBe('bf16');
      expect(tensor.shape, spec.name).toEqual(spec.shape);
      const want = new Uint16Array(spec.shape.reduce((a, b) => a * b, 1));
      spec.fill(want);
      const bytes = await tensor.readBytes();
      expect(Buffer.from(bytes).equals(Buffer.from(want.buffer)), spec.name).toBe(true);
    }
  } finally {
    await checkpoint.close();
  }
}

describe('make-checkpoint', () => {
  it('tiny checkpoint reads back exactly', async () => {
    await expectTensors(join(work, 'a'), randomTensors(PRESETS.tiny, 7));
  });

  it('writes the real layout and a matching config', async () => {
    const { checkpoint, config } = await openCheckpointPath(join(work, 'a'));
    const layout = resolveLayout(checkpoint.tensors.values(), config);
    await checkpoint.close();
    expect(layout.unexpected).toEqual([]);
    expect(layout.config.llm).toMatchObject({ dModel: 64, nHeads: 4, nLayers: 2, mlpHidden: 256, vocabSize: 50280, embeddingSize: 50304 });
    expect(layout.config.vision).toMatchObject({ hiddenSize: 64, numLayers: 3, layersUsed: 2, imageSize: 336, patchSize: 14 });
  });

  it('gives the same bytes for the same seed', async () => {
    expect(await command.run([join(work, 'b'), '--seed', '7', '--quiet'])).toBe(0);
    expect(await command.run([join(work, 'c'), '--seed', '8', '--quiet'])).toBe(0);
    const a = await readFile(join(work, 'a', 'pytorch_model.bin'));
    expect(a.equals(await readFile(join(work, 'b', 'pytorch_model.bin')))).toBe(true);
    expect(a.equals(await readFile(join(work, 'c', 'pytorch_model.bin')))).toBe(false);
  });

  it('converts with trit convert', async () => {
    // No --random-weights: the checkpoint's config.json marks the weights as random.
    expect(await convertCommand.run([join(work, 'a'), join(work, 'package'), '--quiet', '--name', 'random'])).toBe(0);
    const pkg = await openPackage(join(work, 'package'));
    expect(pkg.manifest.randomWeights).toBe(true);
    expect(pkg.manifest.tensors['transformer.wte.weight'].shape).toEqual([50304, 64]);
    expect((await pkg.readTensor('transformer.blocks.1.ff_proj.weight')).length).toBe((512 * 64) / 4);
  });

  it('writes zip64 records our reader reads', async () => {
    const specs = randomTensors(PRESETS.tiny, 3).slice(0, 6);
    const path = join(work, 'zip64.bin');
    await writeTorchCheckpoint(path, specs, { forceZip64: true });
    const bytes = await readFile(path);
    expect(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
    await expectTensors(path, specs);
  });

  it('converts unmarked config as real weights', async () => {
    const config = JSON.parse(await readFile(join(work, 'a', 'config.json'), 'utf8'));
    expect(config[RANDOM_WEIGHTS_CONFIG_KEY]).toBe(true);
    delete config[RANDOM_WEIGHTS_CONFIG_KEY];
    const unmarked = join(work, 'unmarked-config.json');
    await writeFile(unmarked, JSON.stringify(config));
    expect(await convertCommand.run([join(work, 'a'), join(work, 'unmarked'), '--quiet', '--config', unmarked])).toBe(0);
    const pkg = await openPackage(join(work, 'unmarked'));
    expect(pkg.manifest.randomWeights).toBeUndefined();
  });

  it('rejects an unknown preset', async () => {
    await expect(command.run([join(work, 'd'), '--preset', 'medium'])).rejects.toThrow(UsageError);
    await expect(command.run([join(work, 'd'), '--preset', 'medium'])).rejects.toThrow('--preset must be one of full, tiny; got "medium".');
  });
});

describe('sharded torch checkpoints', () => {
  it('reads a pytorch_model.bin.index.json set', async () => {
    const dir = join(work, 'sharded-torch');
    await mkdir(dir);
    const specs = randomTensors(PRESETS.tiny, 5).slice(0, 8);
    const files = ['pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin'];
    await writeTorchCheckpoint(join(dir, files[0]), specs.slice(0, 3));
    await writeTorchCheckpoint(join(dir, files[1]), specs.slice(3));
    const weightMap = Object.fromEntries(specs.map((s, i) => [s.name, files[i < 3 ? 0 : 1]]));
    await writeFile(join(dir, 'pytorch_model.bin.index.json'), JSON.stringify({ weight_map: weightMap }));
    await expectTensors(dir, specs);
  });
});
