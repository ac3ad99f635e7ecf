// Shape checks shared by the kernel wrappers: each throws a ShapeError naming the kernel, the
// operand and both sizes.
import type { GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';

/** Throws unless `buffer` has at least `bytes` bytes; `shape` names what needs them, when given. */
export function requireBytes(kernel: string, operand: string, buffer: GPUBuffer, bytes: number, shape?: string): void {
  if (buffer.size >= bytes) return;
  const needs = shape === undefined ? ` but needs ${bytes}; allocate it for the shape given.` : `, but ${shape} needs ${bytes}.`;
  throw new ShapeError(`${kernel}: ${operand} "${buffer.label}" has ${buffer.size} bytes${needs}`);
}

/** Throws unless `value` is a positive integer (or zero when `allowZero`). */
export function requireCount(kernel: string, name: string, value: number, allowZero = false): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new ShapeError(`${kernel}: ${name} is ${value}; it must be a ${allowZero ? 'non-negative' : 'positive'} integer.`);
  }
}

/** Throws unless `value` ≤ `max`, a dispatch or device limit. `reason` explains the limit and what to do. */
export function requireAtMost(kernel: string, name: string, value: number, max: number, reason: string): void {
  if (value > max) throw new ShapeError(`${kernel}: ${name} is ${value}, over the maximum of ${max} (${reason}).`);
}

const placeholders = new WeakMap<GpuContext, GPUBuffer>();

/** Returns the context's 4-byte storage buffer, bound where a shader declares an optional operand it will not read. */
export function placeholderBuffer(ctx: GpuContext): GPUBuffer {
  let buffer = placeholders.get(ctx);
  if (!buffer) {
    buffer = ctx.createBuffer('unused operand', 4);
    placeholders.set(ctx, buffer);
  }
  return buffer;
}
