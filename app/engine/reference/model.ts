/**
 * CPU reference of LLaVaOLMoBitnet1B, straight from the architecture and slow on purpose: every
 * sum is a JavaScript double, results are stored as f32. The GPU engine is tested against it.
 *
 * Vision tower (CLIP ViT): patch embedding, CLS + position embeddings, `pre_layrnorm`, the first
 * `layersUsed` encoder layers, CLS dropped. Projector: Linear → exact GELU → Linear. Language
 * model (OLMo-Bitnet): block norm → BitLinear158 `att_proj` → RoPE → causal attention →
 * BitLinear158 `attn_out`, then block norm → BitLinear158 `ff_proj` → SwiGLU → BitLinear158
 * `ff_out`, then `ln_f` and the tied head.
 */
import type { TensorSource } from '../../checkpoint/manifest.ts';
import { unpackTernary, roundHalfEven } from '../ternary/pack.ts';
import { names, resolveDims, IMAGE_MARKER_ID, type ModelDims } from '../model/config.ts';
import { decodeHalf } from '../model/half.ts';
import { ModelConfigError } from '../model/errors.ts';
import { erf } from './activation.ts';
import { attentionReference } from './attention.ts';
import { denseReference } from './dense.ts';
import { layerNormReference } from './norm.ts';
import { patchEmbedReference } from './patch-embed.ts';
import { buildRopeTable } from './rope.ts';
import { argmaxReference } from './sample.ts';

export interface DenseWeight {
  /** Row-major [rows, cols], as PyTorch's Linear stores it ([out, in]). */
  w: Float32Array;
  rows: number;
  cols: number;
  bias?: Float32Array;
}

export interface TernaryWeight {
  /** Row-major [rows, cols] in {-1, 0, 1}. */
  codes: Int8Array;
  rows: number;
  cols: number;
  /** sw = 1 / mean|W| of the latent weights. */
  sw: number;
}

export interface ReferenceBlock {
  attProj: TernaryWeight;
  attnOut: TernaryWeight;
  ffProj: TernaryWeight;
  ffOut: TernaryWeight;
  attnNorm?: { weight: Float32Array; bias?: Float32Array };
  ffNorm?: { weight: Float32Array; bias?: Float32Array };
}

export interface ReferenceVisionLayer {
  ln1: { weight: Float32Array; bias: Float32Array };
  q: DenseWeight;
  k: DenseWeight;
  v: DenseWeight;
  out: DenseWeight;
  ln2: { weight: Float32Array; bias: Float32Array };
  fc1: DenseWeight;
  fc2: DenseWeight;
}

export interface ReferenceWeights {
  wte: Float32Array;
  blocks: ReferenceBlock[];
  lnF?: { weight: Float32Array; bias?: Float32Array };
  vision: {
    patch: Float32Array;
    cls: Float32Array;
    positions: Float32Array;
    preLn: { weight: Float32Array; bias: Float32Array };
    layers: ReferenceVisionLayer[];
  };
  projector: DenseWeight[];
}

/** Reads the tensors the model uses from `source`, decoding f16 to f32 and ternary codes to int8. */
export async function loadReferenceWeights(source: TensorSource, dims: ModelDims = resolveDims(source.manifest)): Promise<ReferenceWeights> {
  const { manifest } = source;
  const float = async (name: string): Promise<Float32Array> => {
    const entry = manifest.tensors[name];
    if (!entry) throw new ModelConfigError(`The package has no tensor "${name}".`);
    const bytes = await source.readTensor(name);
    if (entry.dtype === 'f16') return decodeHalf(bytes);
    if (entry.dtype === 'f32') return new Float32Array(bytes.slice().buffer);
    throw new ModelConfigError(`Tensor "${name}" is ${entry.dtype}; the reference expects f16 or f32 here.`);
  };
  const optional = async (name: string) => (manifest.tensors[name] ? float(name) : undefined);
  const dense = async (prefix: string, bias = true): Promise<DenseWeight> => {
    const shape = manifest.tensors[`${prefix}.weight`]?.shape;
    if (!shape) throw new ModelConfigError(`The package has no tensor "${prefix}.weight".`);
    return { w: await float(`${prefix}.weight`), rows: shape[0], cols: shape[1], bias: bias ? await float(`${prefix}.bias`) : undefined };
  };
  const ternary = async (name: string): Promise<TernaryWeight> => {
    const entry = manifest.tensors[name];
    if (!entry || entry.dtype !== 'ternary2' || entry.scale === undefined) {
      throw new ModelConfigError(`Tensor "${name}" must be ternary2 with a scale; convert the checkpoint again with \`trit convert\`.`);
    }
    const [rows, cols] = entry.shape;
    const bytes = await source.readTensor(name);
    const words = new Uint32Array(bytes.slice().buffer);
    return { codes: unpackTernary(words, rows, cols), rows, cols, sw: entry.scale };
  };
  const norm = async (prefix: string) => {
    const weight = await optional(`${prefix}.weight`);
    return weight ? { weight, bias: await optional(`${prefix}.bias`) } : undefined;
  };
  const lnWithBias = async (prefix: string) => ({ weight: await float(`${prefix}.weight`), bias: await float(`${prefix}.bias`) });

  const blocks: ReferenceBlock[] = [];
  for (let i = 0; i < dims.llm.nLayers; i++) {
    blocks.push({
      attProj: await ternary(names.block(i, 'att_proj')),
      attnOut: await ternary(names.block(i, 'attn_out')),
      ffProj: await ternary(names.block(i, 'ff_proj')),
      ffOut: await ternary(names.block(i, 'ff_out')),
      attnNorm: dims.llm.normAffine ? await norm(`transformer.blocks.${i}.attn_norm`) : undefined,
      ffNorm: dims.llm.normAffine ? await norm(`transformer.blocks.${i}.ff_norm`) : undefined,
    });
  }
  const layers: ReferenceVisionLayer[] = [];
  for (let i = 0; i < dims.vision.layersUsed; i++) {
    const p = (rest: string) => names.visionLayer(i, rest);
    layers.push({
      ln1: await lnWithBias(p('layer_norm1')),
      q: await dense(p('self_attn.q_proj')),
      k: await dense(p('self_attn.k_proj')),
      v: await dense(p('self_attn.v_proj')),
      out: await dense(p('self_attn.out_proj')),
      ln2: await lnWithBias(p('layer_norm2')),
      fc1: await dense(p('mlp.fc1')),
      fc2: await dense(p('mlp.fc2')),
    });
  }
  const projector = [await dense('mm_projector.0')];
  if (dims.projector.type === 'mlp2x_gelu') projector.push(await dense('mm_projector.2'));

  return {
    wte: await float(names.wte),
    blocks,
    lnF: dims.llm.normAffine ? await norm('transformer.ln_f') : undefined,
    vision: {
      patch: await float(names.vision('embeddings.patch_embedding.weight')),
      cls: await float(names.vision('embeddings.class_embedding')),
      positions: await float(names.vision('embeddings.position_embedding.weight')),
      preLn: await lnWithBias(names.vision('pre_layrnorm')),
      layers,
    },
    projector,
  };
}

// ---------------------------------------------------------------------------------------------
// Operations, each on row-major [n, width] activations.

/** LayerNorm per row of x [n, width], with optional affine parameters. */
export function layerNorm(x: Float32Array, width: number, eps: number, weight?: Float32Array, bias?: Float32Array): Float32Array {
  return layerNormReference(x, x.length / width, width, { eps, weight, bias });
}

/** Per-row int8 activation quantization of BitLinear158: returns the codes and sx of each row. */
export function quantizeActivations(x: Float32Array, width: number): { q: Int8Array; sx: Float64Array } {
  const n = x.length / width;
  const q = new Int8Array(x.length);
  const sx = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let i = 0; i < width; i++) ss += x[r * width + i] ** 2;
    const inv = 1 / Math.sqrt(ss / width + 1e-5);
    let absMax = 0;
    for (let i = 0; i < width; i++) absMax = Math.max(absMax, Math.abs(x[r * width + i] * inv));
    const s = 127 / Math.max(absMax, 1e-5);
    sx[r] = s;
    for (let i = 0; i < width; i++) q[r * width + i] = Math.max(-128, Math.min(127, roundHalfEven(x[r * width + i] * inv * s)));
  }
  return { q, sx };
}

/** BitLinear158: y = (xq · Wqᵀ) / (sx · sw), an exact integer product and one rescale. */
export function bitLinear(x: Float32Array, weight: TernaryWeight): Float32Array {
  const { rows, cols, codes, sw } = weight;
  const n = x.length / cols;
  const { q, sx } = quantizeActivations(x, cols);
  const out = new Float32Array(n * rows);
  for (let t = 0; t < n; t++) {
    for (let o = 0; o < rows; o++) {
      let acc = 0;
      for (let i = 0; i < cols; i++) acc += q[t * cols + i] * codes[o * cols + i];
      out[t * rows + o] = acc / (sx[t] * sw);
    }
  }
  return out;
}

/** y = x · Wᵀ + b. */
export function linear(x: Float32Array, weight: DenseWeight): Float32Array {
  const { rows, cols, w, bias } = weight;
  return denseReference(x, w, bias, x.length / cols, cols, rows);
}

export const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));
export const quickGelu = (x: number): number => x / (1 + Math.exp(-1.702 * x));
export const silu = (x: number): number => x / (1 + Math.exp(-x));

function mapInPlace(x: Float32Array, f: (v: number) => number): Float32Array {
  for (let i = 0; i < x.length; i++) x[i] = f(x[i]);
  return x;
}

/** Rotate-half RoPE of one head vector in place, with the (cos, sin) pairs of `buildRopeTable` at row `pos`. */
function rotate(v: Float32Array, offset: number, headDim: number, pos: number, table: Float32Array): void {
  const half = headDim / 2;
  for (let i = 0; i < half; i++) {
    const c = table[(pos * half + i) * 2];
    const s = table[(pos * half + i) * 2 + 1];
    const a = v[offset + i];
    const b = v[offset + half + i];
    v[offset + i] = a * c - b * s;
    v[offset + half + i] = b * c + a * s;
  }
}

// ---------------------------------------------------------------------------------------------

/** Keys and values of every block for the positions run so far. */
export class ReferenceCache {
  length = 0;
  readonly keys: Float32Array[];
  readonly values: Float32Array[];

  constructor(dims: ModelDims) {
    const size = dims.llm.maxSequenceLength * dims.llm.dModel;
    this.keys = Array.from({ length: dims.llm.nLayers }, () => new Float32Array(size));
    this.values = Array.from({ length: dims.llm.nLayers }, () => new Float32Array(size));
  }
}

/** Per-block values a forward pass can record, for layer-by-layer comparisons. */
export interface ReferenceTrace {
  /** Input of each block, [n, dModel]. */
  blockInputs: Float32Array[];
  /** Output of the last block before `ln_f`. */
  finalHidden?: Float32Array;
}

export class ReferenceModel {
  /** (cos, sin) pairs [maxSequenceLength, headDim / 2, 2], angles in double precision. */
  readonly rope: Float32Array;

  constructor(
    readonly dims: ModelDims,
    readonly weights: ReferenceWeights,
  ) {
    this.rope = buildRopeTable(dims.llm.maxSequenceLength, dims.llm.headDim, dims.llm.ropeTheta, 'float64');
  }

  static async load(source: TensorSource): Promise<ReferenceModel> {
    const dims = resolveDims(source.manifest);
    return new ReferenceModel(dims, await loadReferenceWeights(source, dims));
  }

  /** Vision tower and projector: pixels [3, size, size] (normalised) → image embeddings [imageTokens, dModel]. */
  encodeImage(pixels: Float32Array): Float32Array {
    const features = this.visionFeatures(pixels);
    return this.project(features);
  }

  /** Vision tower up to the selected layer, CLS dropped for 'patch' features: [tokens, hidden]. */
  visionFeatures(pixels: Float32Array): Float32Array {
    const v = this.dims.vision;
    const w = this.weights.vision;
    const { hidden, patchSize: p, grid, imageSize: size } = v;
    if (pixels.length !== 3 * size * size) throw new RangeError(`encodeImage: ${pixels.length} pixel values, expected 3 × ${size} × ${size}.`);
    const n = grid * grid + 1;

    // Patch embedding (a stride-p convolution without bias), CLS row first, plus positions.
    let x = patchEmbedReference(pixels, w.patch, w.cls, w.positions, size, size, p, hidden);
    x = layerNorm(x, hidden, v.eps, w.preLn.weight, w.preLn.bias);

    // Encoder layers, pre-norm, full attention.
    const act = v.act === 'quick_gelu' ? quickGelu : gelu;
    for (const layer of w.layers) {
      const h = layerNorm(x, hidden, v.eps, layer.ln1.weight, layer.ln1.bias);
      const attn = linear(attentionReference(linear(h, layer.q), linear(h, layer.k), linear(h, layer.v), n, n, v.nHeads, hidden / v.nHeads, false), layer.out);
      for (let i = 0; i < x.length; i++) x[i] += attn[i];
      const h2 = layerNorm(x, hidden, v.eps, layer.ln2.weight, layer.ln2.bias);
      const mlp = linear(mapInPlace(linear(h2, layer.fc1), act), layer.fc2);
      for (let i = 0; i < x.length; i++) x[i] += mlp[i];
    }
    return v.dropCls ? x.slice(hidden) : x;
  }

  /** Projector: vision features [tokens, hidden] → image embeddings [tokens, dModel]. */
  project(features: Float32Array): Float32Array {
    const [first, second] = this.weights.projector;
    const h = linear(features, first);
    return second ? linear(mapInPlace(h, gelu), second) : h;
  }

  /** Input embeddings of `ids`, with the rows of `image` wherever the id is the image marker. */
  embed(ids: readonly number[], image?: Float32Array): Float32Array {
    const d = this.dims.llm.dModel;
    const rows: Float32Array[] = [];
    for (const id of ids) {
      if (id === IMAGE_MARKER_ID) {
        if (!image) throw new RangeError('The prompt has an image marker but no image embeddings were given.');
        for (let r = 0; r < image.length / d; r++) rows.push(image.subarray(r * d, (r + 1) * d));
      } else {
        if (!(id >= 0 && id < this.dims.llm.embeddingSize)) throw new RangeError(`Token id ${id} is outside the embedding's ${this.dims.llm.embeddingSize} rows.`);
        rows.push(this.weights.wte.subarray(id * d, (id + 1) * d));
      }
    }
    const out = new Float32Array(rows.length * d);
    rows.forEach((r, i) => out.set(r, i * d));
    return out;
  }

  /** Block norm: LayerNorm (or RMSNorm) without affine unless the package has the weights. */
  private blockNorm(x: Float32Array, norm?: { weight: Float32Array; bias?: Float32Array }): Float32Array {
    const { dModel, eps, normType } = this.dims.llm;
    if (normType === 'rms') return layerNormReference(x, x.length / dModel, dModel, { kind: 'rms', eps, weight: norm?.weight });
    return layerNorm(x, dModel, eps, norm?.weight, norm?.bias);
  }

  /** One OLMo block on rows at positions cache.length.., appending their keys and values; returns the block output. */
  block(index: number, x: Float32Array, cache: ReferenceCache): Float32Array {
    const { dModel: d, nHeads, headDim, clipQkv, mlpHidden } = this.dims.llm;
    const b = this.weights.blocks[index];
    const n = x.length / d;
    const start = cache.length;

    // Attention: fused q, k, v projection, optional clipping, RoPE, causal attention.
    const qkv = bitLinear(this.blockNorm(x, b.attnNorm), b.attProj);
    if (clipQkv !== null) mapInPlace(qkv, (v) => Math.max(-clipQkv, Math.min(clipQkv, v)));
    const q = new Float32Array(n * d);
    const keys = cache.keys[index];
    const values = cache.values[index];
    for (let t = 0; t < n; t++) {
      q.set(qkv.subarray(t * 3 * d, t * 3 * d + d), t * d);
      keys.set(qkv.subarray(t * 3 * d + d, t * 3 * d + 2 * d), (start + t) * d);
      values.set(qkv.subarray(t * 3 * d + 2 * d, t * 3 * d + 3 * d), (start + t) * d);
      for (let h = 0; h < nHeads; h++) {
        rotate(q, t * d + h * headDim, headDim, start + t, this.rope);
        rotate(keys, (start + t) * d + h * headDim, headDim, start + t, this.rope);
      }
    }
    const attn = bitLinear(attentionReference(q, keys, values, n, start + n, nHeads, d / nHeads, true, start), b.attnOut);
    const h = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) h[i] = x[i] + attn[i];

    // Feed-forward: SwiGLU over the halves [x, gate] of ff_proj's output.
    const u = bitLinear(this.blockNorm(h, b.ffNorm), b.ffProj);
    const act = new Float32Array(n * mlpHidden);
    for (let t = 0; t < n; t++) {
      for (let i = 0; i < mlpHidden; i++) act[t * mlpHidden + i] = silu(u[t * 2 * mlpHidden + mlpHidden + i]) * u[t * 2 * mlpHidden + i];
    }
    const ff = bitLinear(act, b.ffOut);
    for (let i = 0; i < h.length; i++) h[i] += ff[i];
    return h;
  }

  /**
   * Runs input rows [n, dModel] through every block at positions cache.length.., advancing the
   * cache, and returns the logits (over all embedding rows) of every row: [n, embeddingSize].
   */
  forward(x: Float32Array, cache: ReferenceCache, trace?: ReferenceTrace): Float32Array {
    const { dModel: d, maxSequenceLength, embeddingSize } = this.dims.llm;
    const n = x.length / d;
    if (cache.length + n > maxSequenceLength) throw new RangeError(`Reference forward: ${cache.length + n} positions pass the ${maxSequenceLength}-token context.`);
    let h = x;
    for (let i = 0; i < this.dims.llm.nLayers; i++) {
      trace?.blockInputs.push(h.slice());
      h = this.block(i, h, cache);
    }
    cache.length += n;
    if (trace) trace.finalHidden = h.slice();
    const normed = this.blockNorm(h, this.weights.lnF);
    return linear(normed, { w: this.weights.wte, rows: embeddingSize, cols: d });
  }

  /** Greedy generation, for tests: returns the chosen ids and the logits row that chose each. */
  greedy(promptIds: readonly number[], maxNewTokens: number, image?: Float32Array): { tokens: number[]; logits: Float32Array[] } {
    const cache = new ReferenceCache(this.dims);
    const V = this.dims.llm.embeddingSize;
    let all: Float32Array = this.forward(this.embed(promptIds, image), cache);
    let row: Float32Array = all.slice(all.length - V);
    const tokens: number[] = [];
    const logits: Float32Array[] = [];
    for (let step = 0; step < maxNewTokens; step++) {
      const id = argmaxReference(row, this.dims.llm.vocabSize);
      tokens.push(id);
      logits.push(row);
      if (this.dims.llm.eosTokenIds.includes(id) || step === maxNewTokens - 1) break;
      all = this.forward(this.embed([id]), cache);
      row = all;
    }
    return { tokens, logits };
  }
}
