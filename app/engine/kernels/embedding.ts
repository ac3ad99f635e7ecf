// Embedding gather from an f16 table split by rows across bindings.
import { gridFor, type Dispatch, type GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { requireBytes, requireCount } from './checks.ts';

/** Rows [firstRow, firstRow + rows) of a table, in a buffer of their own. */
export interface TablePart {
  buffer: GPUBuffer;
  firstRow: number;
  rows: number;
}

/** An f16 [rows, cols] table (raw halves) split by rows so that each part fits one storage binding. */
export interface SplitHalfTable {
  rows: number;
  cols: number;
  parts: TablePart[];
}

/**
 * Splits `rows` rows of `rowBytes` bytes into consecutive ranges whose byte size, rounded up
 * to 4, fits `maxBindingSize`. `rowAlignment` makes every range but the last a multiple of it
 * (for kernels that tile rows).
 */
export function planRowSplit(rows: number, rowBytes: number, maxBindingSize: number, rowAlignment = 1): { firstRow: number; rows: number }[] {
  requireCount('row split', 'rows', rows);
  requireCount('row split', 'rowBytes', rowBytes);
  let perPart = Math.floor(maxBindingSize / rowBytes);
  while (perPart > 0 && Math.ceil((perPart * rowBytes) / 4) * 4 > maxBindingSize) perPart--;
  perPart -= perPart % rowAlignment;
  if (perPart < 1) {
    throw new ShapeError(`row split: ${rowAlignment} row(s) of ${rowBytes} bytes do not fit a binding of ${maxBindingSize} bytes.`);
  }
  const ranges: { firstRow: number; rows: number }[] = [];
  for (let first = 0; first < rows; first += perPart) ranges.push({ firstRow: first, rows: Math.min(perPart, rows - first) });
  return ranges;
}

/**
 * Uploads `halves` (f16 bits of a [rows, cols] table) as parts that fit `ctx.maxBindingSize`,
 * or the smaller `maxPartBytes` when given.
 */
export function uploadHalfTable(ctx: GpuContext, label: string, halves: Uint16Array, rows: number, cols: number, maxPartBytes = ctx.maxBindingSize): SplitHalfTable {
  if (halves.length !== rows * cols) throw new ShapeError(`${label}: ${halves.length} halves for a [${rows}, ${cols}] table.`);
  const parts = planRowSplit(rows, cols * 2, Math.min(maxPartBytes, ctx.maxBindingSize)).map(({ firstRow, rows: count }, i) => ({
    buffer: ctx.upload(`${label} rows ${firstRow}..${firstRow + count - 1} (part ${i})`, halves.subarray(firstRow * cols, (firstRow + count) * cols)),
    firstRow,
    rows: count,
  }));
  return { rows, cols, parts };
}

export interface EmbeddingOptions {
  /** Index of token 0 in `ids`, in u32 elements (e.g. a slot of the sampler's token history). */
  idsOffset?: number;
  label?: string;
}

/**
 * Gathers rows of `table` for `tokens` ids (u32) into `out` [tokens, cols] f32; one dispatch a
 * table part, to be run in order (see shaders/embedding.wgsl). Ids past the table give zeros.
 */
export function embeddingKernel(ctx: GpuContext, ids: GPUBuffer, table: SplitHalfTable, out: GPUBuffer, tokens: number, options: EmbeddingOptions = {}): Dispatch[] {
  const label = options.label ?? 'embedding';
  const idsOffset = options.idsOffset ?? 0;
  requireCount(label, 'tokens', tokens);
  requireCount(label, 'idsOffset', idsOffset, true);
  requireBytes(label, 'ids', ids, (idsOffset + tokens) * 4, `[${idsOffset + tokens}] u32`);
  requireBytes(label, 'output', out, tokens * table.cols * 4, `[${tokens}, ${table.cols}] f32`);
  const covered = table.parts.reduce((n, p) => n + p.rows, 0);
  if (covered !== table.rows) throw new ShapeError(`${label}: table parts cover ${covered} rows of ${table.rows}.`);

  const workgroups = gridFor(tokens * table.cols, 256);
  const pipeline = ctx.pipeline('embedding');
  return table.parts.map((part, i) => {
    requireBytes(label, `part ${i}`, part.buffer, part.rows * table.cols * 2, `[${part.rows}, ${table.cols}] f16`);
    const isLast = i === table.parts.length - 1 ? 1 : 0;
    const params = ctx.uniform(`${label} part ${i} params`, [tokens, table.cols, idsOffset, part.firstRow, part.rows, isLast, workgroups[0]], ['u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32']);
    const partLabel = `${label} part ${i}`;
    return { label: partLabel, pipeline, bindGroups: [ctx.bindGroup(partLabel, pipeline, [ids, part.buffer, out, params])], workgroups };
  });
}
