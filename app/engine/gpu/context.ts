import type { DeviceHandle, OptionalFeature } from './device.ts';
import { GpuValidationError, ShapeError } from './errors.ts';
import { shaderSource } from './shaders.ts';

/**
 * One recorded compute dispatch. Kernel wrappers build these once, bind groups and uniforms
 * included, so a forward step only encodes them. Values that change per step, such as the
 * position, live in buffers that the model writes with `queue.writeBuffer` before submitting.
 */
export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroups: GPUBindGroup[];
  workgroups: [number, number, number];
}

/** Pipeline-shaping choices: WGSL `override` constants and text substitutions of the source. */
export interface PipelineChoices {
  /** Values for `override` declarations in the shader. */
  constants?: Record<string, number>;
  /** Replaces each `{{KEY}}` in the source, for choices `override` cannot express (types, enable directives). */
  defines?: Record<string, string>;
}

/**
 * The engine's view of one device: labelled buffers, a pipeline cache keyed by the choices
 * that shaped each pipeline, and dispatch encoding. Kernels never read back inside a step.
 */
export class GpuContext {
  readonly device: GPUDevice;
  readonly features: ReadonlySet<OptionalFeature>;
  readonly maxBindingSize: number;
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(readonly handle: DeviceHandle) {
    this.device = handle.device;
    this.features = handle.features;
    this.maxBindingSize = handle.device.limits.maxStorageBufferBindingSize;
  }

  has(feature: OptionalFeature): boolean {
    return this.features.has(feature);
  }

  /** Returns the pipeline for shader `name` with `choices`, compiling it on first use. */
  pipeline(name: string, choices: PipelineChoices = {}, entryPoint = 'main'): GPUComputePipeline {
    const constants = choices.constants ?? {};
    const defines = choices.defines ?? {};
    const key = `${name}:${entryPoint}:${JSON.stringify(Object.entries(constants).sort())}:${JSON.stringify(Object.entries(defines).sort())}`;
    let pipeline = this.pipelines.get(key);
    if (pipeline) return pipeline;

    let code = shaderSource(name);
    for (const [k, v] of Object.entries(defines)) code = code.replaceAll(`{{${k}}}`, v);
    const label = `${name}${Object.keys(constants).length ? ` ${JSON.stringify(constants)}` : ''}`;
    const module = this.device.createShaderModule({ label, code });
    pipeline = this.device.createComputePipeline({
      label,
      layout: 'auto',
      compute: { module, entryPoint, constants },
    });
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  createBuffer(label: string, size: number, usage: GPUBufferUsageFlags = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST): GPUBuffer {
    if (size > this.device.limits.maxBufferSize) {
      throw new ShapeError(`Buffer "${label}" needs ${size} bytes, over the device's maxBufferSize of ${this.device.limits.maxBufferSize}.`);
    }
    // WebGPU sizes must be multiples of 4; zero-sized bindings are invalid.
    return this.device.createBuffer({ label, size: Math.max(4, Math.ceil(size / 4) * 4), usage });
  }

  /** Creates a storage buffer holding `data`. */
  upload(label: string, data: ArrayBufferView, usage?: GPUBufferUsageFlags): GPUBuffer {
    const buffer = this.createBuffer(label, data.byteLength, usage);
    this.write(buffer, data);
    return buffer;
  }

  /** Writes `data` at `offset`, padding the tail to a multiple of 4 bytes as WebGPU requires. */
  write(buffer: GPUBuffer, data: ArrayBufferView, offset = 0): void {
    const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    const whole = bytes.byteLength & ~3;
    if (whole > 0) this.device.queue.writeBuffer(buffer, offset, bytes, 0, whole);
    if (whole < bytes.byteLength) {
      const tail = new Uint8Array(4);
      tail.set(bytes.subarray(whole));
      this.device.queue.writeBuffer(buffer, offset + whole, tail);
    }
  }

  /** Creates a uniform buffer from 32-bit words (u32, i32 or f32 by position, as the WGSL struct declares them). */
  uniform(label: string, words: ArrayLike<number>, types: ('u32' | 'i32' | 'f32')[]): GPUBuffer {
    if (types.length !== words.length) throw new ShapeError(`Uniform "${label}": ${words.length} values for ${types.length} fields.`);
    const size = Math.ceil((words.length * 4) / 16) * 16;
    const data = new ArrayBuffer(size);
    const view = new DataView(data);
    for (let i = 0; i < words.length; i++) {
      if (types[i] === 'f32') view.setFloat32(i * 4, words[i], true);
      else if (types[i] === 'i32') view.setInt32(i * 4, words[i], true);
      else view.setUint32(i * 4, words[i], true);
    }
    const buffer = this.device.createBuffer({ label, size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(buffer, 0, new Uint8Array(data));
    return buffer;
  }

  /** Binds `resources` in order to bindings 0..n-1 of group 0 of `pipeline`. */
  bindGroup(label: string, pipeline: GPUComputePipeline, resources: (GPUBuffer | GPUBufferBinding)[], group = 0): GPUBindGroup {
    return this.device.createBindGroup({
      label,
      layout: pipeline.getBindGroupLayout(group),
      entries: resources.map((r, binding) => ({ binding, resource: r instanceof GPUBuffer ? { buffer: r } : r })),
    });
  }

  /** Records `dispatches` into `encoder`, one compute pass each so that WebGPU orders their memory accesses. */
  encode(encoder: GPUCommandEncoder, dispatches: readonly Dispatch[], timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = encoder.beginComputePass({ label: dispatches.length === 1 ? dispatches[0].label : 'step', timestampWrites });
    for (const d of dispatches) {
      pass.setPipeline(d.pipeline);
      d.bindGroups.forEach((g, i) => pass.setBindGroup(i, g));
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    }
    pass.end();
  }

  /** Encodes and submits `dispatches` in one command buffer. */
  run(dispatches: readonly Dispatch[], label = 'step'): void {
    const encoder = this.device.createCommandEncoder({ label });
    this.encode(encoder, dispatches);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Copies `size` bytes of `buffer` from `offset` to the CPU. For tests, tools and the one token id read per step. */
  async read(buffer: GPUBuffer, size = buffer.size, offset = 0): Promise<ArrayBuffer> {
    const staging = this.device.createBuffer({ label: `${buffer.label} readback`, size: Math.ceil(size / 4) * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    const encoder = this.device.createCommandEncoder({ label: `read ${buffer.label}` });
    encoder.copyBufferToBuffer(buffer, offset, staging, 0, staging.size);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const copy = staging.getMappedRange().slice(0, size);
    staging.unmap();
    staging.destroy();
    this.throwUncaptured();
    return copy;
  }

  /** Throws the oldest WebGPU error raised outside an error scope, if any. */
  throwUncaptured(): void {
    const error = this.handle.uncapturedErrors.shift();
    if (error) {
      this.handle.uncapturedErrors.length = 0;
      throw error;
    }
  }

  /** Runs `body` inside validation and out-of-memory error scopes and throws what they caught. */
  async checked<T>(body: () => T): Promise<T> {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const result = body();
    const validation = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    if (validation) throw new GpuValidationError('validation', validation.message);
    if (oom) throw new GpuValidationError('out-of-memory', oom.message);
    return result;
  }
}

/** Workgroup counts for `n` items with `perGroup` items a workgroup, folded into y when x would pass 65535. */
export function gridFor(n: number, perGroup: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / perGroup));
  if (groups <= 65535) return [groups, 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}
