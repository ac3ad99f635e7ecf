/**
 * Tiny in-memory packages in the real layout, for the model's tests. Their text embeddings are
 * built so that the first layer's quantization is exact in any precision: each row contains
 * integers in -3..3 times a power of two, sums to zero (so LayerNorm's mean is exactly 0) and has
 * |value| 3 somewhere (so the int8 codes are multiples of 127/3, far from rounding boundaries).
 */
import {
  DEFAULT_CHAT_TEMPLATE,
  PACKAGE_FORMAT,
  PACKAGE_FORMAT_VERSION,
  type PackageManifest,
  type TensorEntry,
  type TensorSource,
} from '../../checkpoint/manifest.ts';
import { rng } from '../../test/gpu.ts';
import { packTernary, ternarize, TERNARY_PACKING } from '../ternary/pack.ts';
import { encodeHalf } from './half.ts';
import { names } from './config.ts';

export interface TestModelShape {
  dModel: number;
  nHeads: number;
  nLayers: number;
  mlpHidden: number;
  vocabSize: number;
  embeddingSize: number;
  maxSequenceLength: number;
  visionHidden: number;
  visionHeads: number;
  visionIntermediate: number;
  visionLayers: number;
  visionLayersUsed: number;
  imageSize: number;
  patchSize: number;
  clipQkv: number | null;
  layerNormType: 'default' | 'rms';
  eosTokenIds: number[];
}

export const TINY_SHAPE: TestModelShape = {
  dModel: 64,
  nHeads: 4,
  nLayers: 2,
  mlpHidden: 128,
  vocabSize: 200,
  embeddingSize: 208,
  maxSequenceLength: 64,
  visionHidden: 32,
  visionHeads: 2,
  visionIntermediate: 64,
  visionLayers: 3,
  visionLayersUsed: 2,
  imageSize: 28,
  patchSize: 14,
  clipQkv: null,
  layerNormType: 'default',
  eosTokenIds: [199, 0],
};

/** Embedding rows of integers in -3..3 times 2^-2, each summing to zero and reaching |3|. */
function exactEmbedding(rows: number, width: number, next: () => number): Float32Array {
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const row = new Int8Array(width);
    for (let i = 0; i < width; i += 2) {
      const v = Math.floor(next() * 7) - 3;
      row[i] = v;
      row[i + 1] = -v; // pairs keep the row sum at zero
    }
    const at = Math.floor(next() * (width / 2)) * 2;
    row[at] = 3;
    row[at + 1] = -3;
    for (let i = 0; i < width; i++) out[r * width + i] = row[i] / 4;
  }
  return out;
}

/** Builds a TensorSource whose tensors live in memory, laid out as one shard in manifest order. */
export function buildTestPackage(shape: TestModelShape = TINY_SHAPE, seed = 1): TensorSource {
  const next = rng(seed);
  const uniform = (n: number, scale: number) => Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale);
  const tensors: Record<string, TensorEntry> = {};
  const data = new Map<string, Uint8Array>();
  let offset = 0;
  const add = (name: string, dtype: TensorEntry['dtype'], tensorShape: number[], bytes: Uint8Array, scale?: number) => {
    tensors[name] = { dtype, shape: tensorShape, shard: 0, offset, bytes: bytes.byteLength, ...(scale !== undefined ? { packing: TERNARY_PACKING, scale } : {}) };
    data.set(name, bytes);
    offset += bytes.byteLength;
  };
  const half = (name: string, tensorShape: number[], values: Float32Array) => {
    const h = encodeHalf(values);
    add(name, 'f16', tensorShape, new Uint8Array(h.buffer));
  };
  const ternary = (name: string, rows: number, cols: number) => {
    const { codes, sw } = ternarize(uniform(rows * cols, 1));
    add(name, 'ternary2', [rows, cols], new Uint8Array(packTernary(codes, rows, cols).buffer), sw);
  };

  const { dModel: d, mlpHidden, visionHidden: vh, visionIntermediate: vi, patchSize: p } = shape;
  const grid = shape.imageSize / p;

  // Vision tower and projector first, as the real converter orders them (vision, projector, LLM).
  const v = (rest: string) => names.vision(rest);
  half(v('embeddings.class_embedding'), [vh], uniform(vh, 1));
  half(v('embeddings.patch_embedding.weight'), [vh, 3, p, p], uniform(vh * 3 * p * p, 0.1));
  half(v('embeddings.position_embedding.weight'), [grid * grid + 1, vh], uniform((grid * grid + 1) * vh, 0.5));
  half(v('pre_layrnorm.weight'), [vh], uniform(vh, 0.2).map((x) => 1 + x));
  half(v('pre_layrnorm.bias'), [vh], uniform(vh, 0.1));
  for (let i = 0; i < shape.visionLayers; i++) {
    const l = (rest: string) => names.visionLayer(i, rest);
    for (const ln of ['layer_norm1', 'layer_norm2']) {
      half(l(`${ln}.weight`), [vh], uniform(vh, 0.2).map((x) => 1 + x));
      half(l(`${ln}.bias`), [vh], uniform(vh, 0.1));
    }
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      half(l(`self_attn.${proj}.weight`), [vh, vh], uniform(vh * vh, 1 / Math.sqrt(vh)));
      half(l(`self_attn.${proj}.bias`), [vh], uniform(vh, 0.1));
    }
    half(l('mlp.fc1.weight'), [vi, vh], uniform(vi * vh, 1 / Math.sqrt(vh)));
    half(l('mlp.fc1.bias'), [vi], uniform(vi, 0.1));
    half(l('mlp.fc2.weight'), [vh, vi], uniform(vh * vi, 1 / Math.sqrt(vi)));
    half(l('mlp.fc2.bias'), [vh], uniform(vh, 0.1));
  }
  half(v('post_layernorm.weight'), [vh], uniform(vh, 0.2).map((x) => 1 + x));
  half(v('post_layernorm.bias'), [vh], uniform(vh, 0.1));
  half(names.projector(0, 'weight'), [d, vh], uniform(d * vh, 1 / Math.sqrt(vh)));
  half(names.projector(0, 'bias'), [d], uniform(d, 0.1));
  half(names.projector(2, 'weight'), [d, d], uniform(d * d, 1 / Math.sqrt(d)));
  half(names.projector(2, 'bias'), [d], uniform(d, 0.1));

  half(names.wte, [shape.embeddingSize, d], exactEmbedding(shape.embeddingSize, d, next));
  for (let i = 0; i < shape.nLayers; i++) {
    ternary(names.block(i, 'att_proj'), 3 * d, d);
    ternary(names.block(i, 'attn_out'), d, d);
    ternary(names.block(i, 'ff_proj'), 2 * mlpHidden, d);
    ternary(names.block(i, 'ff_out'), d, mlpHidden);
  }

  const manifest: PackageManifest = {
    format: PACKAGE_FORMAT,
    formatVersion: PACKAGE_FORMAT_VERSION,
    name: 'tiny test model',
    randomWeights: true,
    model: {
      llm: {
        dModel: d,
        nHeads: shape.nHeads,
        nLayers: shape.nLayers,
        mlpHidden,
        vocabSize: shape.vocabSize,
        embeddingSize: shape.embeddingSize,
        maxSequenceLength: shape.maxSequenceLength,
        ropeTheta: 10000,
        layerNormEps: 1e-5,
        layerNormType: shape.layerNormType,
        layerNormWithAffine: false,
        clipQkv: shape.clipQkv,
        weightTying: true,
        eosTokenIds: shape.eosTokenIds,
        padTokenId: 1,
      },
      vision: {
        hiddenSize: vh,
        intermediateSize: vi,
        numHeads: shape.visionHeads,
        numLayers: shape.visionLayers,
        layersUsed: shape.visionLayersUsed,
        imageSize: shape.imageSize,
        patchSize: p,
        layerNormEps: 1e-5,
        hiddenAct: 'quick_gelu',
        selectFeature: 'patch',
      },
      projector: { type: 'mlp2x_gelu', inDim: vh, outDim: d },
      image: {
        aspect: 'pad',
        size: shape.imageSize,
        mean: [0.48145466, 0.4578275, 0.40821073],
        std: [0.26862954, 0.26130258, 0.27577711],
        background: [122, 116, 104],
      },
    },
    chatTemplate: DEFAULT_CHAT_TEMPLATE,
    tokenizer: { file: 'tokenizer.json', bytes: 0, sha256: '' },
    shards: [{ file: 'model-00001.safetensors', bytes: offset, sha256: '' }],
    tensors,
  };

  return {
    manifest,
    async readTensor(name) {
      const bytes = data.get(name);
      if (!bytes) throw new Error(`Test package has no tensor "${name}".`);
      return bytes;
    },
    async readTokenizer() {
      throw new Error('The in-memory test package has no tokenizer.');
    },
  };
}

/** Normalised pixels [3, size, size] with values in the range a real photo gives. */
export function testPixels(size: number, seed = 7): Float32Array {
  const next = rng(seed);
  return Float32Array.from({ length: 3 * size * size }, () => next() * 3.6 - 1.8);
}
