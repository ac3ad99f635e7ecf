import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BlobByteSource, MemoryByteSource, TruncatedInputError } from './bytes.ts';
import { FileByteSource } from './bytes.node.ts';
import { openCheckpointSource, readFloats, type Checkpoint } from './checkpoint.ts';
import { openCheckpointPath } from './checkpoint.node.ts';
import { CheckpointFormatError, UnsupportedCheckpointError } from './errors.ts';
import { toF16 } from './dtypes.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

interface Expected {
  dtype: string;
  shape: number[];
  values: number[];
}
const expected: Record<string, Record<string, Expected>> = JSON.parse(await readFile(join(fixtures, 'expected.json'), 'utf8'));

async function open(name: string): Promise<Checkpoint> {
  return (await openCheckpointPath(join(fixtures, name))).checkpoint;
}

async function openBytes(bytes: Uint8Array, name: string): Promise<Checkpoint> {
  return openCheckpointSource(new MemoryByteSource(bytes, name), () => Promise.reject(new Error('no siblings')));
}

describe('checkpoint readers', () => {
  for (const file of Object.keys(expected)) {
    it(`reads ${file} exactly`, async () => {
      const checkpoint = await open(file);
      try {
        expect([...checkpoint.tensors.keys()].sort()).toEqual(Object.keys(expected[file]).sort());
        for (const [name, want] of Object.entries(expected[file])) {
          const tensor = checkpoint.tensors.get(name)!;
          expect(tensor.dtype, name).toBe(want.dtype);
          expect(tensor.shape, name).toEqual(want.shape);
          const values = Array.from(await readFloats(tensor));
          expect(values, name).toEqual(want.values.map((v) => (want.dtype === 'f64' ? v : Math.fround(v))));
          const whole = await tensor.readBytes();
          const item = whole.length / Math.max(1, want.values.length);
          const count = want.values.length - 2;
          if (count > 0) {
            const part = await tensor.readElements!(1, count);
            expect(Array.from(part), `${name} elements 1..${count}`).toEqual(Array.from(whole.subarray(item, item * (1 + count))));
          }
        }
      } finally {
        await checkpoint.close();
      }
    });
  }

  it('reads the tiny checkpoint in the real layout', async () => {
    const checkpoint = await open('tiny/pytorch_model.bin');
    expect(checkpoint.tensors.get('model.transformer.wte.weight')?.shape).toEqual([128, 32]);
    expect(checkpoint.tensors.get('model.vision_tower.vision_tower.vision_model.embeddings.patch_embedding.weight')?.shape).toEqual([32, 3, 14, 14]);
    expect(checkpoint.tensors.get('model.transformer.blocks.1.ff_out.weight')?.dtype).toBe('bf16');
    await checkpoint.close();
  });
});

describe('checkpoint reader errors', () => {
  it('rejects an empty file', async () => {
    await expect(openBytes(new Uint8Array(0), 'empty.bin')).rejects.toThrow(/empty\.bin is empty/);
  });

  it('rejects a file that is not a checkpoint', async () => {
    const text = new TextEncoder().encode('<html>Access denied: accept the licence first</html>');
    await expect(openBytes(text, 'pytorch_model.bin')).rejects.toThrow(CheckpointFormatError);
    await expect(openBytes(text, 'pytorch_model.bin')).rejects.toThrow(/not a checkpoint Trit can read/);
  });

  it('rejects a legacy torch file', async () => {
    await expect(open('legacy.pt')).rejects.toThrow(UnsupportedCheckpointError);
    await expect(open('legacy.pt')).rejects.toThrow(/Re-save it with a current PyTorch/);
  });

  it('rejects a pickle calling os.system', async () => {
    await expect(open('os_system.pt')).rejects.toThrow(UnsupportedCheckpointError);
    await expect(open('os_system.pt')).rejects.toThrow(/"os\.system"/);
  });

  it('rejects compressed zip entries', async () => {
    await expect(open('compressed.pt')).rejects.toThrow(/is compressed \(method 8\)/);
  });

  it('rejects a truncated zip', async () => {
    const bytes = await readFile(join(fixtures, 'tiny/pytorch_model.bin'));
    // Cut off the central directory: no end record is found.
    await expect(openBytes(bytes.subarray(0, bytes.length - 1000), 'cut.bin')).rejects.toThrow(/cut\.bin is not a readable zip archive/);
    // Cut inside the tensor data but keep a copy of the directory at the end: reads past the end fail.
    const directoryStart = bytes.length - 1000;
    const shortened = new Uint8Array([...bytes.subarray(0, 100_000), ...bytes.subarray(directoryStart)]);
    await expect(openBytes(shortened, 'cut.bin')).rejects.toThrow(CheckpointFormatError);
  });

  it('reports a read past the end as truncation', async () => {
    const source = new MemoryByteSource(new Uint8Array(10), 'ten.bin');
    await expect(source.read(8, 4)).rejects.toThrow(TruncatedInputError);
  });

  it('rejects a safetensors header longer than the file', async () => {
    const bytes = new Uint8Array(64);
    new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
    bytes[8] = 0x7b;
    await expect(openBytes(bytes, 'model.safetensors')).rejects.toThrow(/header length 1000 is longer than the file \(64 bytes\)/);
  });

  it('rejects an unknown safetensors dtype', async () => {
    const header = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }));
    const bytes = new Uint8Array(8 + header.length + 2);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    await expect(openBytes(bytes, 'model.safetensors')).rejects.toThrow(UnsupportedCheckpointError);
    await expect(openBytes(bytes, 'model.safetensors')).rejects.toThrow(/"w" has dtype F8_E4M3/);
  });

  it('reads a browser File by slices', async () => {
    const bytes = await readFile(join(fixtures, 'dtypes.pt'));
    const source = new BlobByteSource(new File([bytes], 'dtypes.pt'));
    expect(source.name).toBe('dtypes.pt');
    const checkpoint = await openCheckpointSource(source, () => Promise.reject(new Error('no siblings')));
    const values = Array.from(await readFloats(checkpoint.tensors.get('bf16')!));
    expect(values).toEqual(expected['dtypes.pt'].bf16.values.map((v) => Math.fround(v)));
    await expect(source.read(bytes.length - 1, 2)).rejects.toThrow(TruncatedInputError);
  });

  it('reads a file through a Node file handle in ranges', async () => {
    const source = await FileByteSource.open(join(fixtures, 'single.safetensors'));
    const all = await readFile(join(fixtures, 'single.safetensors'));
    expect(source.size).toBe(all.length);
    expect(Array.from(await source.read(3, 20))).toEqual(Array.from(all.subarray(3, 23)));
    await expect(source.read(all.length - 2, 4)).rejects.toThrow(/truncated/);
    await source.close();
  });
});

describe('float conversions', () => {
  it('rounds float32 to float16 as torch does', async () => {
    const { inputs, bits }: { inputs: number[]; bits: number[] } = JSON.parse(await readFile(join(fixtures, 'f16_rounding.json'), 'utf8'));
    const ours = Array.from(toF16(Float32Array.from(inputs)));
    for (let i = 0; i < inputs.length; i++) expect(ours[i], `${inputs[i]}`).toBe(bits[i]);
  });
});
