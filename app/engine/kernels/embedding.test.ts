import { describe, expect, it } from 'vitest';
import { embeddingKernel, planRowSplit, uploadHalfTable } from './embedding.ts';
import { embeddingReference } from '../reference/embedding.ts';
import { floatToHalf } from '../model/half.ts';
import { randomFloats, testContext } from '../../test/gpu.ts';
import { ShapeError } from '../gpu/errors.ts';

function halfTable(rows: number, cols: number, seed: number): Uint16Array {
  const values = randomFloats(rows * cols, seed, -3, 3);
  const halves = Uint16Array.from(values, floatToHalf);
  halves[0] = 0x7bff; // 65504, the largest half
  halves[1] = 0x0001; // the smallest subnormal, 2^-24
  halves[2] = 0x8400; // -2^-14
  return halves;
}

async function gather(partBytes: number | undefined, rows: number, cols: number, ids: number[], idsOffset = 0) {
  const ctx = await testContext();
  const halves = halfTable(rows, cols, 51);
  const table = uploadHalfTable(ctx, 'test table', halves, rows, cols, partBytes);
  const idBuffer = ctx.upload('ids', Uint32Array.from([...new Array(idsOffset).fill(7), ...ids]));
  const tokens = ids.length;
  const out = ctx.createBuffer('embeddings', tokens * cols * 4);
  ctx.write(out, new Float32Array(tokens * cols).fill(NaN));
  ctx.run(embeddingKernel(ctx, idBuffer, table, out, tokens, { idsOffset }));
  return { table, out: new Float32Array(await ctx.read(out)), expected: embeddingReference(halves, rows, cols, ids) };
}

describe('embedding kernel', () => {
  it('gathers rows of a table in one binding', async () => {
    const { table, out, expected } = await gather(undefined, 37, 33, [0, 36, 5, 5, 12]);
    expect(table.parts.length).toBe(1);
    expect(out).toEqual(expected);
  });

  it('gathers across many small row-split parts', async () => {
    // 50 rows of 33 halves (66 bytes) in parts of at most 256 bytes: 3 rows a part, 17 parts.
    const ids = [49, 0, 3, 2, 48, 25, 26, 24, 1000];
    const { table, out, expected } = await gather(256, 50, 33, ids, 3);
    expect(table.parts.length).toBe(17);
    expect(table.parts[1]).toMatchObject({ firstRow: 3, rows: 3 });
    expect(out).toEqual(expected); // id 1000 is past the table and gives zeros
  });

  it('splits a table over 128 MiB', async () => {
    // WebGPU raises a requested limit below the default to the default, so the smallest cap
    // a device takes is 128 MiB; a [32800, 2048] f16 table (134 MB) needs two parts there.
    const cap = 128 * 2 ** 20;
    const ctx = await testContext({ maxStorageBufferBindingSize: cap });
    expect(ctx.maxBindingSize).toBe(cap);
    const rows = 32800;
    const cols = 2048;
    const halves = new Uint16Array(rows * cols);
    for (let i = 0; i < halves.length; i++) halves[i] = Math.imul(i, 2654435761) >>> 20; // finite halves below 2
    const table = uploadHalfTable(ctx, 'large table', halves, rows, cols);
    expect(table.parts.map((p) => p.rows)).toEqual([32768, 32]);
    const ids = [32799, 0, 32767, 32768, 12345];
    const idBuffer = ctx.upload('large ids', Uint32Array.from(ids));
    const out = ctx.createBuffer('large embeddings', ids.length * cols * 4);
    ctx.run(embeddingKernel(ctx, idBuffer, table, out, ids.length));
    expect(new Float32Array(await ctx.read(out))).toEqual(embeddingReference(halves, rows, cols, ids));
    for (const part of table.parts) part.buffer.destroy();
  });

  it('plans parts that fit the binding', () => {
    expect(planRowSplit(50304, 4096, 128 * 2 ** 20)).toEqual([
      { firstRow: 0, rows: 32768 },
      { firstRow: 32768, rows: 17536 },
    ]);
    expect(planRowSplit(10, 6, 16, 2)).toEqual([
      { firstRow: 0, rows: 2 },
      { firstRow: 2, rows: 2 },
      { firstRow: 4, rows: 2 },
      { firstRow: 6, rows: 2 },
      { firstRow: 8, rows: 2 },
    ]);
    expect(() => planRowSplit(4, 300, 256)).toThrow(ShapeError);
  });
});
