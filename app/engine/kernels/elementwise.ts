// Elementwise kernels: SwiGLU, GELU (exact and quick), residual add and bias add.
import { gridFor, type Dispatch, type GpuContext } from '../gpu/context.ts';
import { requireBytes, requireCount } from './checks.ts';

/** y [rows, hidden] = silu(gate) · x for u [rows, 2·hidden] = [x, gate] halves (see shaders/swiglu.wgsl). */
export function swigluKernel(ctx: GpuContext, u: GPUBuffer, y: GPUBuffer, rows: number, hidden: number, label = 'swiglu'): Dispatch {
  requireCount(label, 'rows', rows);
  requireCount(label, 'hidden', hidden);
  requireBytes(label, 'input', u, rows * 2 * hidden * 4, `[${rows}, ${2 * hidden}] f32`);
  requireBytes(label, 'output', y, rows * hidden * 4, `[${rows}, ${hidden}] f32`);
  const workgroups = gridFor(rows * hidden, 256);
  const pipeline = ctx.pipeline('swiglu');
  const params = ctx.uniform(`${label} params`, [rows, hidden, workgroups[0]], ['u32', 'u32', 'u32']);
  return { label, pipeline, bindGroups: [ctx.bindGroup(label, pipeline, [u, y, params])], workgroups };
}

/** y = GELU(x) over `n` f32 values: 'exact' uses erf (the projector), 'quick' is x·sigmoid(1.702x) (CLIP). */
export function geluKernel(ctx: GpuContext, x: GPUBuffer, y: GPUBuffer, n: number, kind: 'exact' | 'quick', label = `${kind} gelu`): Dispatch {
  requireCount(label, 'n', n);
  requireBytes(label, 'input', x, n * 4, `[${n}] f32`);
  requireBytes(label, 'output', y, n * 4, `[${n}] f32`);
  const workgroups = gridFor(n, 256);
  const pipeline = ctx.pipeline('gelu', { constants: { QUICK: kind === 'quick' ? 1 : 0 } });
  const params = ctx.uniform(`${label} params`, [n, workgroups[0]], ['u32', 'u32']);
  return { label, pipeline, bindGroups: [ctx.bindGroup(label, pipeline, [x, y, params])], workgroups };
}

/** a += b in place over `n` f32 values (the residual add). */
export function addKernel(ctx: GpuContext, a: GPUBuffer, b: GPUBuffer, n: number, label = 'residual add'): Dispatch {
  requireCount(label, 'n', n);
  requireBytes(label, 'accumulator', a, n * 4, `[${n}] f32`);
  requireBytes(label, 'addend', b, n * 4, `[${n}] f32`);
  return addDispatch(ctx, a, b, n, n, label);
}

/** a[r, c] += bias[c] in place for a [rows, cols] f32 and bias [cols] f32. */
export function biasAddKernel(ctx: GpuContext, a: GPUBuffer, bias: GPUBuffer, rows: number, cols: number, label = 'bias add'): Dispatch {
  requireCount(label, 'rows', rows);
  requireCount(label, 'cols', cols);
  requireBytes(label, 'accumulator', a, rows * cols * 4, `[${rows}, ${cols}] f32`);
  requireBytes(label, 'bias', bias, cols * 4, `[${cols}] f32`);
  return addDispatch(ctx, a, bias, rows * cols, cols, label);
}

function addDispatch(ctx: GpuContext, a: GPUBuffer, b: GPUBuffer, n: number, period: number, label: string): Dispatch {
  const workgroups = gridFor(n, 256);
  const pipeline = ctx.pipeline('add');
  const params = ctx.uniform(`${label} params`, [n, period, workgroups[0]], ['u32', 'u32', 'u32']);
  return { label, pipeline, bindGroups: [ctx.bindGroup(label, pipeline, [a, b, params])], workgroups };
}
