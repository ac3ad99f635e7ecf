/**
 * Random checkpoints in the published LLaVaOLMoBitnet1B layout (tensor names with the Intel file's
 * prefixes, bf16, `lm_head.weight` included, `config.json` keys), for tests, benchmarks and the
 * demo package. Values are deterministic for a seed and independent of the order tensors are made in.
 */
import { RANDOM_WEIGHTS_CONFIG_KEY } from './convert.ts';
import { numberToBf16Bits } from './dtypes.ts';
import type { TensorSpec } from './torch-writer.node.ts';

export interface ModelShape {
  dModel: number;
  nHeads: number;
  nLayers: number;
  /** SwiGLU hidden width; `ff_proj` has twice as many rows. */
  mlpHidden: number;
  vocabSize: number;
  embeddingSize: number;
  visionHidden: number;
  visionIntermediate: number;
  visionHeads: number;
  visionLayers: number;
  imageSize: number;
  patchSize: number;
}

export const PRESETS: Record<'full' | 'tiny', ModelShape> = {
  /** The published model's shapes: about 1.59 billion parameters, 3.18 GB in bf16. */
  full: {
    dModel: 2048,
    nHeads: 16,
    nLayers: 16,
    mlpHidden: 8192,
    vocabSize: 50280,
    embeddingSize: 50304,
    visionHidden: 1024,
    visionIntermediate: 4096,
    visionHeads: 16,
    visionLayers: 24,
    imageSize: 336,
    patchSize: 14,
  },
  /** Real vocabulary and image preprocessing with tiny widths: a few MB. */
  tiny: {
    dModel: 64,
    nHeads: 4,
    nLayers: 2,
    mlpHidden: 256,
    vocabSize: 50280,
    embeddingSize: 50304,
    visionHidden: 64,
    visionIntermediate: 256,
    visionHeads: 4,
    visionLayers: 3,
    imageSize: 336,
    patchSize: 14,
  },
};

const LLM = 'model.transformer.';
const VISION = 'model.vision_tower.vision_tower.vision_model.';
const PROJECTOR = 'model.mm_projector.';

/** FNV-1a hash of a string, to seed each tensor from its name. */
function hashName(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Fills with bf16 values of mean `mean` and standard deviation `std`, approximately normal:
 * each is a sum of four uniforms (Irwin–Hall), from a mulberry32 generator seeded by name and seed.
 */
function randomFill(name: string, seed: number, mean: number, std: number): (out: Uint16Array) => void {
  return (out) => {
    let state = hashName(name, seed);
    const next = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    };
    // Sum of four 16-bit uniforms has mean 2·65535 and standard deviation sqrt(4/12)·65536.
    const scale = std / (Math.sqrt(4 / 12) * 65536);
    for (let i = 0; i < out.length; i++) {
      const a = next();
      const b = next();
      const sum = (a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16) - 2 * 65535;
      out[i] = numberToBf16Bits(mean + sum * scale);
    }
  };
}

/** Lists the tensors of a random checkpoint with `shape`, named as in the published checkpoint. */
export function randomTensors(shape: ModelShape, seed: number): TensorSpec[] {
  const d = shape.dModel;
  const vd = shape.visionHidden;
  const tensors: TensorSpec[] = [];
  const add = (name: string, dims: number[], std: number, mean = 0) => tensors.push({ name, shape: dims, fill: randomFill(name, seed, mean, std) });

  add(`${LLM}wte.weight`, [shape.embeddingSize, d], 0.02);
  for (let n = 0; n < shape.nLayers; n++) {
    add(`${LLM}blocks.${n}.att_proj.weight`, [3 * d, d], 0.02);
    add(`${LLM}blocks.${n}.attn_out.weight`, [d, d], 0.02);
    add(`${LLM}blocks.${n}.ff_proj.weight`, [2 * shape.mlpHidden, d], 0.02);
    add(`${LLM}blocks.${n}.ff_out.weight`, [d, shape.mlpHidden], 0.02);
  }
  add(`${PROJECTOR}0.weight`, [d, vd], 0.02);
  add(`${PROJECTOR}0.bias`, [d], 0.01);
  add(`${PROJECTOR}2.weight`, [d, d], 0.02);
  add(`${PROJECTOR}2.bias`, [d], 0.01);

  const positions = (shape.imageSize / shape.patchSize) ** 2 + 1;
  add(`${VISION}embeddings.class_embedding`, [vd], 0.02);
  add(`${VISION}embeddings.patch_embedding.weight`, [vd, 3, shape.patchSize, shape.patchSize], 0.02);
  add(`${VISION}embeddings.position_embedding.weight`, [positions, vd], 0.02);
  add(`${VISION}pre_layrnorm.weight`, [vd], 0.05, 1);
  add(`${VISION}pre_layrnorm.bias`, [vd], 0.01);
  for (let n = 0; n < shape.visionLayers; n++) {
    const layer = `${VISION}encoder.layers.${n}.`;
    for (const proj of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) {
      add(`${layer}self_attn.${proj}.weight`, [vd, vd], 0.02);
      add(`${layer}self_attn.${proj}.bias`, [vd], 0.01);
    }
    add(`${layer}layer_norm1.weight`, [vd], 0.05, 1);
    add(`${layer}layer_norm1.bias`, [vd], 0.01);
    add(`${layer}mlp.fc1.weight`, [shape.visionIntermediate, vd], 0.02);
    add(`${layer}mlp.fc1.bias`, [shape.visionIntermediate], 0.01);
    add(`${layer}mlp.fc2.weight`, [vd, shape.visionIntermediate], 0.02);
    add(`${layer}mlp.fc2.bias`, [vd], 0.01);
    add(`${layer}layer_norm2.weight`, [vd], 0.05, 1);
    add(`${layer}layer_norm2.bias`, [vd], 0.01);
  }
  add(`${VISION}post_layernorm.weight`, [vd], 0.05, 1);
  add(`${VISION}post_layernorm.bias`, [vd], 0.01);
  add('model.lm_head.weight', [shape.embeddingSize, d], 0.02);
  return tensors;
}

/** Builds the `config.json` of a checkpoint with `shape`, with the OLMo and LLaVA keys the converter reads. */
export function randomConfig(shape: ModelShape): Record<string, unknown> {
  return {
    architectures: ['LlavaOLMoBitnet1BForCausalLM'],
    // Read by `trit convert`, which labels the package as having random weights.
    [RANDOM_WEIGHTS_CONFIG_KEY]: true,
    model_type: 'llava_olmo_bitnet',
    d_model: shape.dModel,
    n_heads: shape.nHeads,
    n_layers: shape.nLayers,
    mlp_ratio: (2 * shape.mlpHidden) / shape.dModel,
    vocab_size: shape.vocabSize,
    embedding_size: shape.embeddingSize,
    max_sequence_length: 2048,
    rope_theta: 10000,
    layer_norm_type: 'default',
    layer_norm_with_affine: false,
    layer_norm_eps: 1e-5,
    attention_layer_norm: false,
    clip_qkv: null,
    activation_type: 'swiglu',
    block_type: 'sequential',
    include_bias: false,
    weight_tying: true,
    eos_token_id: 50279,
    pad_token_id: 1,
    mm_hidden_size: shape.visionHidden,
    mm_projector_type: 'mlp2x_gelu',
    mm_vision_select_layer: -2,
    mm_vision_select_feature: 'patch',
    image_aspect_ratio: 'pad',
    mm_vision_tower: 'openai/clip-vit-large-patch14-336',
    vision_config: {
      hidden_size: shape.visionHidden,
      intermediate_size: shape.visionIntermediate,
      num_attention_heads: shape.visionHeads,
      num_hidden_layers: shape.visionLayers,
      image_size: shape.imageSize,
      patch_size: shape.patchSize,
      layer_norm_eps: 1e-5,
      hidden_act: 'quick_gelu',
    },
  };
}
