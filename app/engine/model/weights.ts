/**
 * The loader: reads a package's tensors from a `TensorSource` in shard order and uploads each to
 * its own labelled GPU buffer before reading the next, so at most one tensor's bytes are held on
 * the CPU side at a time.
 *
 * Formats on the GPU:
 * - ternary linears: the packed u32 words as stored, with `sw` kept on the CPU for the kernel.
 *   With `dense: true` they become f16 matrices of the same values (-1, 0, +1) instead, which the
 *   benchmark that compares weight formats uses;
 * - matrices (vision, projector, embedding): f16 as stored;
 * - vectors (norm weights, biases, the class embedding) and the position embedding: f32, since
 *   the element-wise kernels read f32;
 * - the embedding (also the tied head): split by rows across several buffers when it is larger
 *   than the adapter's `maxStorageBufferBindingSize`.
 */
import type { PackageManifest, TensorSource } from '../../checkpoint/manifest.ts';
import type { GpuContext } from '../gpu/context.ts';
import { planRowSplit, type TablePart } from '../kernels/embedding.ts';
import { TERNARY_PACKING, unpackTernary } from '../ternary/pack.ts';
import { names, type ModelDims } from './config.ts';
import { ModelConfigError } from './errors.ts';
import { decodeHalf, encodeHalf } from './half.ts';

export interface GpuTensor {
  name: string;
  /** Format of `buffer`'s contents (not necessarily the stored one). */
  dtype: 'f16' | 'f32' | 'ternary2';
  shape: number[];
  buffer: GPUBuffer;
  /** For ternary layers: sw = 1 / mean|W|. Dense copies keep it so the rescale is unchanged. */
  scale?: number;
}

export interface LoadOptions {
  /** Hold ternary layers as dense f16 matrices of the same values. */
  dense?: boolean;
  /** Called after each tensor is uploaded. */
  onProgress?: (done: { tensors: number; of: number; bytes: number }) => void;
  /** Warnings such as unexpected tensors; one call lists them all. */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** Caps the bytes of one embedding chunk below the binding limit, so tests reach the split path at tiny sizes. */
  maxChunkBytes?: number;
}

/** Names of every tensor the model runs on. */
export function requiredTensors(dims: ModelDims, manifest: PackageManifest): string[] {
  const out = [names.wte];
  for (let i = 0; i < dims.llm.nLayers; i++) {
    for (const part of ['att_proj', 'attn_out', 'ff_proj', 'ff_out'] as const) out.push(names.block(i, part));
    if (dims.llm.normAffine) {
      for (const norm of ['attn_norm', 'ff_norm'] as const) {
        out.push(names.blockNorm(i, norm, 'weight'));
        if (dims.llm.normType === 'default' && manifest.tensors[names.blockNorm(i, norm, 'bias')]) out.push(names.blockNorm(i, norm, 'bias'));
      }
    }
  }
  if (dims.llm.normAffine) {
    out.push(names.lnF('weight'));
    if (dims.llm.normType === 'default' && manifest.tensors[names.lnF('bias')]) out.push(names.lnF('bias'));
  }
  for (const rest of ['embeddings.class_embedding', 'embeddings.patch_embedding.weight', 'embeddings.position_embedding.weight', 'pre_layrnorm.weight', 'pre_layrnorm.bias']) {
    out.push(names.vision(rest));
  }
  for (let i = 0; i < dims.vision.layersUsed; i++) {
    for (const p of ['layer_norm1', 'layer_norm2', 'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.out_proj', 'mlp.fc1', 'mlp.fc2']) {
      out.push(names.visionLayer(i, `${p}.weight`), names.visionLayer(i, `${p}.bias`));
    }
  }
  out.push(names.projector(0, 'weight'), names.projector(0, 'bias'));
  if (dims.projector.type === 'mlp2x_gelu') out.push(names.projector(2, 'weight'), names.projector(2, 'bias'));
  return out;
}

/** Tensors a package may carry that the model never reads, so they are skipped without a warning. */
function isKnownUnused(name: string, dims: ModelDims): boolean {
  if (name === 'lm_head.weight' || name.includes('post_layernorm')) return true;
  const layer = /^vision_tower\.vision_model\.encoder\.layers\.(\d+)\./.exec(name);
  return layer !== null && Number(layer[1]) >= dims.vision.layersUsed;
}

/** Elementwise operands, kept as f32: vectors and the position embedding. */
function wantsF32(name: string, shape: number[]): boolean {
  return shape.length === 1 || name.endsWith('embeddings.position_embedding.weight');
}

export class ModelWeights {
  readonly tensors = new Map<string, GpuTensor>();
  /** The embedding's rows in consecutive chunks, each within the binding limit. */
  readonly embedding: TablePart[] = [];
  gpuBytes = 0;

  constructor(readonly dims: ModelDims) {}

  get(name: string): GpuTensor {
    const t = this.tensors.get(name);
    if (!t) throw new ModelConfigError(`Weight "${name}" was not loaded.`);
    return t;
  }

  /** Returns the tensor when the package has it (optional norm weights). */
  find(name: string): GpuTensor | undefined {
    return this.tensors.get(name);
  }

  destroy(): void {
    for (const t of this.tensors.values()) t.buffer.destroy();
    for (const c of this.embedding) c.buffer.destroy();
    this.tensors.clear();
    this.embedding.length = 0;
    this.gpuBytes = 0;
  }
}

/** Uploads the model's tensors from `source`; destroys what it made if anything fails. */
export async function loadWeights(ctx: GpuContext, source: TensorSource, dims: ModelDims, options: LoadOptions = {}): Promise<ModelWeights> {
  const { manifest } = source;
  const required = requiredTensors(dims, manifest);
  const missing = required.filter((n) => !manifest.tensors[n]);
  if (missing.length) {
    throw new ModelConfigError(`The package is missing ${missing.length} tensor(s) the model needs: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', …' : ''}. Convert the checkpoint again with \`trit convert\`.`);
  }
  const requiredSet = new Set(required);
  const unexpected = Object.keys(manifest.tensors).filter((n) => !requiredSet.has(n) && !isKnownUnused(n, dims));
  if (unexpected.length) options.onWarning?.(`The package has ${unexpected.length} tensor(s) the model does not use, skipped: ${unexpected.join(', ')}.`);

  const order = required.slice().sort((a, b) => {
    const ea = manifest.tensors[a];
    const eb = manifest.tensors[b];
    return ea.shard - eb.shard || ea.offset - eb.offset;
  });

  const weights = new ModelWeights(dims);
  try {
    let bytes = 0;
    for (const [index, name] of order.entries()) {
      options.signal?.throwIfAborted();
      const entry = manifest.tensors[name];
      const data = await source.readTensor(name);
      if (data.byteLength !== entry.bytes) {
        throw new ModelConfigError(`Tensor "${name}" has ${data.byteLength} bytes, but the manifest lists ${entry.bytes}, so the package is damaged. Download it again, or convert the checkpoint again with \`trit convert\`.`);
      }
      if (name === names.wte) uploadEmbedding(ctx, weights, entry.shape, data, entry.dtype, Math.min(ctx.maxBindingSize, options.maxChunkBytes ?? Infinity));
      else uploadTensor(ctx, weights, name, entry.shape, entry.dtype, entry.packing, data, entry.scale, options.dense ?? false);
      bytes += data.byteLength;
      options.onProgress?.({ tensors: index + 1, of: order.length, bytes });
    }
    ctx.throwUncaptured();
    return weights;
  } catch (error) {
    weights.destroy();
    throw error;
  }
}

function uploadTensor(ctx: GpuContext, weights: ModelWeights, name: string, shape: number[], dtype: string, packing: string | undefined, data: Uint8Array, scale: number | undefined, dense: boolean): void {
  let tensor: GpuTensor;
  if (dtype === 'ternary2') {
    if (packing !== TERNARY_PACKING) {
      throw new ModelConfigError(
        `Ternary tensor "${name}" is packed as "${packing ?? 'unnamed'}", but this version of Trit reads "${TERNARY_PACKING}". Convert the checkpoint again with \`trit convert\`.`,
      );
    }
    if (scale === undefined) throw new ModelConfigError(`Ternary tensor "${name}" has no scale in the manifest; convert the checkpoint again.`);
    if (dense) {
      const [rows, cols] = shape;
      const codes = unpackTernary(new Uint32Array(data.slice().buffer), rows, cols);
      tensor = { name, dtype: 'f16', shape, buffer: ctx.upload(`${name} (dense f16)`, encodeHalf(codes)), scale };
    } else {
      tensor = { name, dtype: 'ternary2', shape, buffer: ctx.upload(name, data), scale };
    }
  } else if (dtype === 'f16' && wantsF32(name, shape)) {
    tensor = { name, dtype: 'f32', shape, buffer: ctx.upload(name, decodeHalf(data)) };
  } else if (dtype === 'f16' || dtype === 'f32') {
    if (dtype === 'f32' && !wantsF32(name, shape)) {
      // Matrices run through f16 kernels; an f32 package is narrowed here.
      const h = encodeHalf(new Float32Array(data.slice().buffer));
      tensor = { name, dtype: 'f16', shape, buffer: ctx.upload(name, h) };
    } else {
      tensor = { name, dtype: dtype as 'f16' | 'f32', shape, buffer: ctx.upload(name, data) };
    }
  } else {
    throw new ModelConfigError(`Tensor "${name}" has dtype ${dtype}, which the engine does not read.`);
  }
  weights.tensors.set(name, tensor);
  weights.gpuBytes += tensor.buffer.size;
}

/** Splits the embedding by rows so that each buffer fits one binding. */
function uploadEmbedding(ctx: GpuContext, weights: ModelWeights, shape: number[], data: Uint8Array, dtype: string, chunkBytes: number): void {
  const [rows, width] = shape;
  let half = data;
  if (dtype === 'f32') half = new Uint8Array(encodeHalf(new Float32Array(data.slice().buffer)).buffer);
  else if (dtype !== 'f16') throw new ModelConfigError(`The embedding ${names.wte} has dtype ${dtype}; f16 or f32 expected.`);
  const rowBytes = width * 2;
  // Chunks are a multiple of 64 rows so a head kernel's tiles never straddle two buffers.
  for (const { firstRow, rows: n } of planRowSplit(rows, rowBytes, chunkBytes, 64)) {
    const buffer = ctx.upload(`${names.wte} rows ${firstRow}..${firstRow + n - 1}`, half.subarray(firstRow * rowBytes, (firstRow + n) * rowBytes));
    weights.embedding.push({ buffer, firstRow, rows: n });
    weights.gpuBytes += buffer.size;
  }
}
