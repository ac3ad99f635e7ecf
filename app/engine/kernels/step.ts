// Step parameters: the values that change from one forward step to the next, kept in one small
// uniform buffer that the model writes once per step (`writeStepParams`) before submitting.
// Kernels built once read them from there, so no bind group or dispatch is rebuilt per token.
//
// Every shader that reads them declares this struct, field for field:
//
//   struct StepParams {
//     position: u32,     // position of the first token of this step (p0)
//     kvLength: u32,     // cache positions valid once this step's tokens are written (p0 + T)
//     sampleIndex: u32,  // tokens sampled so far in this request: the RNG counter, and the
//                        // token-history slot the sampler writes
//     seed: u32,         // sampling seed of the request
//     temperature: f32,  // 0 or less: greedy (argmax, ties to the lowest id)
//     topP: f32,         // nucleus mass kept, in (0, 1]; 1 keeps every token
//     _pad0: u32,
//     _pad1: u32,
//   }
import type { GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';

export interface StepParams {
  /** Position of the first token of this step (p0); the tokens are at [p0, p0 + T). */
  position: number;
  /** Cache positions valid after this step's tokens are written, p0 + T. */
  kvLength: number;
  /** Tokens sampled so far in the request: the RNG counter and the token-history slot. */
  sampleIndex?: number;
  /** Sampling seed (u32). */
  seed?: number;
  /** 0 or less selects greedy decoding. */
  temperature?: number;
  /** Nucleus mass kept, in (0, 1]. */
  topP?: number;
}

/** Size of the step-parameter uniform buffer in bytes (eight 32-bit fields). */
export const STEP_PARAMS_BYTES = 32;

/** Creates the step-parameter uniform buffer, filled with `initial`. */
export function createStepBuffer(ctx: GpuContext, label = 'step params', initial: StepParams = { position: 0, kvLength: 0 }): GPUBuffer {
  const buffer = ctx.device.createBuffer({ label, size: STEP_PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  writeStepParams(ctx, buffer, initial);
  return buffer;
}

/** Encodes `params` as the WGSL `StepParams` struct. */
export function encodeStepParams(params: StepParams): ArrayBuffer {
  const { position, kvLength } = params;
  if (!Number.isInteger(position) || position < 0 || !Number.isInteger(kvLength) || kvLength < position) {
    throw new ShapeError(`Step params: position ${position} and kvLength ${kvLength} must be integers with 0 ≤ position ≤ kvLength.`);
  }
  const temperature = params.temperature ?? 0;
  if (!Number.isFinite(temperature)) throw new ShapeError(`Step params: temperature ${temperature} must be a finite number (0 or less for greedy).`);
  const topP = params.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw new ShapeError(`Step params: topP ${topP} must be in (0, 1].`);
  const data = new ArrayBuffer(STEP_PARAMS_BYTES);
  const view = new DataView(data);
  view.setUint32(0, position, true);
  view.setUint32(4, kvLength, true);
  view.setUint32(8, params.sampleIndex ?? 0, true);
  view.setUint32(12, (params.seed ?? 0) >>> 0, true);
  view.setFloat32(16, temperature, true);
  view.setFloat32(20, topP, true);
  return data;
}

/** Queues a write of `params` into `buffer`; it takes effect for work submitted afterwards. */
export function writeStepParams(ctx: GpuContext, buffer: GPUBuffer, params: StepParams): void {
  ctx.device.queue.writeBuffer(buffer, 0, encodeStepParams(params));
}
