import { ShapeError } from '../gpu/errors.ts';

/** Throws a ShapeError naming the buffer's `role` and label when `buffer` is smaller than `bytes`. */
export function requireSize(kernel: string, role: string, buffer: GPUBuffer, bytes: number): void {
  if (buffer.size < bytes) {
    throw new ShapeError(`${kernel}: ${role} "${buffer.label}" has ${buffer.size} bytes but needs ${bytes}; allocate it for the shape given.`);
  }
}

/** Throws a ShapeError unless `value` is a positive integer (or zero when `allowZero`). */
export function requireCount(kernel: string, name: string, value: number, allowZero = false): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new ShapeError(`${kernel}: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer; got ${value}.`);
  }
}
