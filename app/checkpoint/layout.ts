/**
 * Maps a checkpoint's tensors to the package's canonical names and reads `config.json` into the
 * resolved `ModelConfig`. Widths, layer counts and the image size come from tensor shapes. A config
 * value that disagrees with a shape is an error naming both. A switch set to a value the engine
 * does not implement is an error naming the key and value.
 */
import type { CheckpointTensor } from './checkpoint.ts';
import { ModelConfigError } from './errors.ts';
import type { ImagePreprocessConfig, LanguageModelConfig, ModelConfig, ProjectorConfig, VisionConfig } from './manifest.ts';

/** Storage format the converter writes a tensor in. */
export type StorageKind = 'ternary' | 'f16' | 'f32';

export interface PlannedTensor {
  /** Canonical name in the package. */
  name: string;
  source: CheckpointTensor;
  storage: StorageKind;
}

export interface ModelLayout {
  config: ModelConfig;
  /** Tensors to package, in the order the forward pass uses them (vision, projector, language model). */
  tensors: PlannedTensor[];
  /** Checkpoint tensors that are known but not packaged (the tied head, vision layers past the selected one), with the reason. */
  skipped: string[];
  /** Checkpoint tensor names that match nothing the model uses. */
  unexpected: string[];
}

/** CLIP ViT-L/14-336 settings used when `config.json` has no `vision_config`. */
const CLIP_DEFAULTS = { num_attention_heads: 16, layer_norm_eps: 1e-5, hidden_act: 'quick_gelu' };
const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

const BITLINEAR_PARTS = ['att_proj', 'attn_out', 'ff_proj', 'ff_out'] as const;
const VISION_LAYER_TENSORS = [
  ...['q_proj', 'k_proj', 'v_proj', 'out_proj'].flatMap((p) => [`self_attn.${p}.weight`, `self_attn.${p}.bias`]),
  'layer_norm1.weight',
  'layer_norm1.bias',
  'mlp.fc1.weight',
  'mlp.fc1.bias',
  'mlp.fc2.weight',
  'mlp.fc2.bias',
  'layer_norm2.weight',
  'layer_norm2.bias',
];

/**
 * Returns the canonical name for a checkpoint tensor name by its suffix, or null. Prefixes differ
 * between saves (`model.transformer.`, `model.vision_tower.vision_tower.vision_model.`,
 * `model.mm_projector.`), so only the part from the first known anchor on counts.
 */
export function canonicalName(name: string): string | null {
  const vision = /(?:^|\.)vision_model\.(.+)$/.exec(name);
  if (vision) return `vision_tower.vision_model.${vision[1]}`;
  const llm = /(?:^|\.)(transformer\..+)$/.exec(name);
  if (llm) return llm[1];
  const projector = /(?:^|\.)(mm_projector\..+)$/.exec(name);
  if (projector) return projector[1];
  if (/(?:^|\.)lm_head\.weight$/.test(name)) return 'lm_head.weight';
  return null;
}

/**
 * Returns how a tensor is stored in the package. BitLinear weights are ternary. Vectors and the
 * position embedding are f32 because the element-wise kernels read f32. Other matrices are f16.
 */
export function storageFor(canonical: string, shape: readonly number[]): StorageKind {
  if (/^transformer\.blocks\.\d+\.(att_proj|attn_out|ff_proj|ff_out)\.weight$/.test(canonical)) return 'ternary';
  if (shape.length <= 1 || canonical.endsWith('embeddings.position_embedding.weight')) return 'f32';
  return 'f16';
}

type Json = Record<string, unknown>;

class ConfigReader {
  constructor(
    private readonly json: Json,
    private readonly prefix = '',
  ) {}

  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  number(key: string, fallback: number): number {
    const value = this.json[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ModelConfigError(`config.json: ${this.prefix}${key} is ${JSON.stringify(value)}; a number is expected.`);
    return value;
  }

  optionalNumber(key: string): number | null {
    return this.has(key) ? this.number(key, 0) : null;
  }

  /** Reads a switch; a value outside `allowed` is an error naming the key and value. */
  choice<T>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.json[key];
    if (value === undefined) return fallback;
    if (!allowed.includes(value as T)) {
      throw new ModelConfigError(
        `config.json: ${this.prefix}${key} is ${JSON.stringify(value)}, which Trit does not implement (supported: ${allowed.map((a) => JSON.stringify(a)).join(', ')}).`,
      );
    }
    return value as T;
  }

  agree(key: string, shapeValue: number, shapeOf: string): void {
    if (!this.has(key)) return;
    const value = this.number(key, shapeValue);
    if (value !== shapeValue) {
      throw new ModelConfigError(`config.json: ${this.prefix}${key} is ${value}, but ${shapeOf} gives ${shapeValue}; the config and the checkpoint disagree.`);
    }
  }
}

function shapeText(tensor: CheckpointTensor): string {
  return `tensor "${tensor.name}" of shape [${tensor.shape.join(', ')}]`;
}

/** Resolves the model from the checkpoint's tensors and `config.json` (`null` when absent: spec defaults apply). */
export function resolveLayout(tensors: Iterable<CheckpointTensor>, configJson: unknown): ModelLayout {
  if (configJson !== null && (typeof configJson !== 'object' || Array.isArray(configJson))) throw new ModelConfigError('config.json is not a JSON object.');
  const json = (configJson ?? {}) as Json;
  const config = new ConfigReader(json);

  // Canonical names, rejecting two checkpoint tensors that map to one name.
  const byName = new Map<string, CheckpointTensor>();
  const unexpected: string[] = [];
  for (const tensor of tensors) {
    const canonical = canonicalName(tensor.name);
    if (canonical === null) {
      unexpected.push(tensor.name);
      continue;
    }
    const other = byName.get(canonical);
    if (other) throw new ModelConfigError(`Checkpoint tensors "${other.name}" and "${tensor.name}" both end in "${canonical}"; keep one model per checkpoint.`);
    byName.set(canonical, tensor);
  }

  const required: string[] = [];
  const missing: string[] = [];
  const get = (name: string): CheckpointTensor | undefined => {
    required.push(name);
    const tensor = byName.get(name);
    if (!tensor) missing.push(name);
    return tensor;
  };
  const count = (pattern: RegExp): number => {
    let n = 0;
    for (const name of byName.keys()) {
      const match = pattern.exec(name);
      if (match) n = Math.max(n, Number(match[1]) + 1);
    }
    return n;
  };
  const expectShape = (tensor: CheckpointTensor | undefined, shape: number[], reason: string) => {
    if (tensor && (tensor.shape.length !== shape.length || tensor.shape.some((n, i) => n !== shape[i]))) {
      throw new ModelConfigError(`${shapeText(tensor)} should be [${shape.join(', ')}] (${reason}); the checkpoint is inconsistent or not LLaVaOLMoBitnet1B.`);
    }
  };

  // Switches of the language model.
  const layerNormType = config.choice('layer_norm_type', ['default', 'rms'] as const, 'default');
  config.choice('activation_type', ['swiglu'], 'swiglu');
  config.choice('block_type', ['sequential'], 'sequential');
  config.choice('attention_layer_norm', [false], false);
  config.choice('include_bias', [false], false);
  config.choice('rope', [true], true);
  config.choice('alibi', [false], false);
  config.choice('multi_query_attention', [false, null], false);
  config.choice('scale_logits', [false], false);
  // Block norm weights are applied when the checkpoint has them. OLMo-1B is saved without them,
  // so the config key is optional; when present it must agree with the tensors.
  const normWeightNames = [...byName.keys()].filter((name) => /^transformer\.(blocks\.\d+\.(attn_norm|ff_norm)|ln_f)\.weight$/.test(name));
  const layerNormWithAffine = config.choice('layer_norm_with_affine', [false, true], normWeightNames.length > 0);
  if (!layerNormWithAffine && normWeightNames.length > 0) {
    throw new ModelConfigError(
      `config.json: layer_norm_with_affine is false, but the checkpoint has block norm weights (${byName.get(normWeightNames[0])!.name}); the config and the checkpoint disagree.`,
    );
  }
  const weightTying = config.choice('weight_tying', [true, false], true);
  const clipQkv = config.optionalNumber('clip_qkv');

  // Language model shapes.
  const wte = get('transformer.wte.weight');
  if (wte && wte.shape.length !== 2) throw new ModelConfigError(`${shapeText(wte)} should be 2-D [embedding_size, d_model].`);
  const [embeddingSize, dModel] = wte ? wte.shape : [0, 0];
  const nLayers = count(/^transformer\.blocks\.(\d+)\./);
  if (wte) {
    config.agree('d_model', dModel, shapeText(wte));
    config.agree('embedding_size', embeddingSize, shapeText(wte));
    if (!config.has('embedding_size')) config.agree('vocab_size', embeddingSize, shapeText(wte));
  }
  config.agree('n_layers', nLayers, `the checkpoint's ${nLayers} transformer.blocks`);
  const nHeads = config.number('n_heads', 16);
  if (config.has('n_kv_heads') && config.number('n_kv_heads', nHeads) !== nHeads) {
    throw new ModelConfigError(`config.json: n_kv_heads is ${config.number('n_kv_heads', 0)}, which Trit does not implement (only n_kv_heads = n_heads = ${nHeads}).`);
  }
  if (dModel % nHeads !== 0) throw new ModelConfigError(`config.json: n_heads ${nHeads} does not divide d_model ${dModel}.`);

  const firstFf = byName.get('transformer.blocks.0.ff_proj.weight');
  const ffRows = firstFf?.shape[0] ?? 0;
  if (firstFf) {
    if (config.has('mlp_hidden_size')) config.agree('mlp_hidden_size', ffRows, shapeText(firstFf));
    else if (config.has('mlp_ratio')) config.agree('mlp_ratio', ffRows / dModel, shapeText(firstFf));
  }
  const mlpHidden = ffRows / 2;

  const lmTensors: PlannedTensor[] = [];
  const plan = (list: PlannedTensor[], name: string, tensor: CheckpointTensor | undefined) => {
    if (tensor) list.push({ name, source: tensor, storage: storageFor(name, tensor.shape) });
  };
  plan(lmTensors, 'transformer.wte.weight', wte);
  for (let n = 0; n < nLayers; n++) {
    const shapes: Record<(typeof BITLINEAR_PARTS)[number], number[]> = {
      att_proj: [3 * dModel, dModel],
      attn_out: [dModel, dModel],
      ff_proj: [ffRows, dModel],
      ff_out: [mlpHidden, dModel].reverse(),
    };
    if (layerNormWithAffine) for (const norm of ['attn_norm', 'ff_norm']) plan(lmTensors, `transformer.blocks.${n}.${norm}.weight`, get(`transformer.blocks.${n}.${norm}.weight`));
    for (const part of BITLINEAR_PARTS) {
      const name = `transformer.blocks.${n}.${part}.weight`;
      const tensor = get(name);
      expectShape(tensor, shapes[part], part === 'att_proj' ? 'fused q, k, v of d_model each' : `d_model ${dModel}, SwiGLU hidden ${mlpHidden}`);
      if (tensor && tensor.shape[1] % 16 !== 0) throw new ModelConfigError(`${shapeText(tensor)} has ${tensor.shape[1]} columns; ternary packing needs a multiple of 16.`);
      plan(lmTensors, name, tensor);
    }
  }
  if (layerNormWithAffine) plan(lmTensors, 'transformer.ln_f.weight', get('transformer.ln_f.weight'));
  // Norm biases exist only for affine LayerNorm; they are packaged when present.
  for (const name of byName.keys()) {
    if (/^transformer\.(blocks\.\d+\.(attn_norm|ff_norm)|ln_f)\.bias$/.test(name)) {
      if (!layerNormWithAffine || layerNormType !== 'default') {
        throw new ModelConfigError(
          `The checkpoint has "${byName.get(name)!.name}", but config.json sets layer_norm_with_affine false or layer_norm_type "rms", which have no norm bias; the config and the checkpoint disagree.`,
        );
      }
      plan(lmTensors, name, byName.get(name));
      required.push(name);
    }
  }

  const skipped: string[] = [];
  const lmHead = byName.get('lm_head.weight');
  if (weightTying) {
    if (lmHead) skipped.push(`${lmHead.name} (the head is tied to the embedding)`);
    required.push('lm_head.weight');
  } else {
    const head = get('lm_head.weight');
    expectShape(head, [embeddingSize, dModel], 'weight_tying is false, so the head is its own matrix');
    plan(lmTensors, 'lm_head.weight', head);
  }

  // Vision tower.
  const vision = typeof json.vision_config === 'object' && json.vision_config !== null ? new ConfigReader(json.vision_config as Json, 'vision_config.') : new ConfigReader({}, 'vision_config.');
  const v = (rest: string) => `vision_tower.vision_model.${rest}`;
  const patch = get(v('embeddings.patch_embedding.weight'));
  const positions = get(v('embeddings.position_embedding.weight'));
  const classEmbedding = get(v('embeddings.class_embedding'));
  const hiddenSize = patch?.shape[0] ?? 0;
  const patchSize = patch?.shape[2] ?? 0;
  if (patch && (patch.shape.length !== 4 || patch.shape[1] !== 3 || patch.shape[2] !== patch.shape[3])) {
    throw new ModelConfigError(`${shapeText(patch)} should be [hidden, 3, patch, patch].`);
  }
  const grid = positions ? Math.round(Math.sqrt(positions.shape[0] - 1)) : 0;
  if (positions && grid * grid !== positions.shape[0] - 1) throw new ModelConfigError(`${shapeText(positions)} is not a square grid of patches plus one CLS row.`);
  const imageSize = grid * patchSize;
  expectShape(positions, [grid * grid + 1, hiddenSize], 'the vision width');
  expectShape(classEmbedding, [hiddenSize], 'the vision width');
  const numLayers = count(/^vision_tower\.vision_model\.encoder\.layers\.(\d+)\./);
  const fc1 = byName.get(v('encoder.layers.0.mlp.fc1.weight'));
  const intermediateSize = fc1?.shape[0] ?? 0;
  if (patch) {
    vision.agree('hidden_size', hiddenSize, shapeText(patch));
    vision.agree('patch_size', patchSize, shapeText(patch));
  }
  if (positions) vision.agree('image_size', imageSize, `${shapeText(positions)} with patch ${patchSize}`);
  vision.agree('num_hidden_layers', numLayers, `the checkpoint's ${numLayers} vision encoder layers`);
  if (fc1) vision.agree('intermediate_size', intermediateSize, shapeText(fc1));
  const visionHeads = vision.number('num_attention_heads', CLIP_DEFAULTS.num_attention_heads);
  if (hiddenSize % visionHeads !== 0) throw new ModelConfigError(`config.json: vision_config.num_attention_heads ${visionHeads} does not divide the vision width ${hiddenSize}.`);
  const hiddenAct = vision.choice('hidden_act', ['quick_gelu', 'gelu'] as const, 'quick_gelu');

  const selectLayer = config.number('mm_vision_select_layer', -2);
  // Hugging Face hidden_states[0] is the embeddings output, so index k (or numLayers + 1 + k when negative) is the output of layer k.
  const layersUsed = selectLayer < 0 ? numLayers + 1 + selectLayer : selectLayer;
  if (!Number.isInteger(selectLayer) || layersUsed < 1 || layersUsed > numLayers) {
    throw new ModelConfigError(`config.json: mm_vision_select_layer ${selectLayer} selects no encoder layer of the ${numLayers} in the checkpoint.`);
  }
  const selectFeature = config.choice('mm_vision_select_feature', ['patch', 'cls_patch'] as const, 'patch');

  const visionTensors: PlannedTensor[] = [];
  plan(visionTensors, v('embeddings.class_embedding'), classEmbedding);
  plan(visionTensors, v('embeddings.patch_embedding.weight'), patch);
  plan(visionTensors, v('embeddings.position_embedding.weight'), positions);
  for (const name of [v('pre_layrnorm.weight'), v('pre_layrnorm.bias')]) {
    const tensor = get(name);
    expectShape(tensor, [hiddenSize], 'the vision width');
    plan(visionTensors, name, tensor);
  }
  const layerShapes = (rest: string): number[] => {
    if (rest === 'mlp.fc1.weight') return [intermediateSize, hiddenSize];
    if (rest === 'mlp.fc1.bias') return [intermediateSize];
    if (rest === 'mlp.fc2.weight') return [hiddenSize, intermediateSize];
    return rest.endsWith('.weight') && rest.startsWith('self_attn') ? [hiddenSize, hiddenSize] : [hiddenSize];
  };
  for (let n = 0; n < numLayers; n++) {
    for (const rest of VISION_LAYER_TENSORS) {
      const name = v(`encoder.layers.${n}.${rest}`);
      const tensor = get(name);
      expectShape(tensor, layerShapes(rest), `vision width ${hiddenSize}, MLP ${intermediateSize}`);
      if (n < layersUsed) plan(visionTensors, name, tensor);
      else if (tensor && rest === VISION_LAYER_TENSORS[0]) skipped.push(`vision encoder layer ${n} (past mm_vision_select_layer ${selectLayer})`);
    }
  }
  for (const name of [v('post_layernorm.weight'), v('post_layernorm.bias')]) {
    required.push(name);
    if (byName.has(name) && name.endsWith('weight')) skipped.push('vision post_layernorm (LLaVA never uses it)');
  }

  // Projector.
  const projectorType = config.choice('mm_projector_type', ['mlp2x_gelu', 'linear'] as const, 'mlp2x_gelu');
  const projectorTensors: PlannedTensor[] = [];
  let projectorIn = 0;
  let projectorOut = 0;
  if (projectorType === 'mlp2x_gelu') {
    const w0 = get('mm_projector.0.weight');
    const w2 = get('mm_projector.2.weight');
    expectShape(w0, [dModel, hiddenSize], 'vision width in, d_model out');
    expectShape(w2, [dModel, dModel], 'd_model in and out');
    for (const [name, tensor] of [
      ['mm_projector.0.weight', w0],
      ['mm_projector.0.bias', get('mm_projector.0.bias')],
      ['mm_projector.2.weight', w2],
      ['mm_projector.2.bias', get('mm_projector.2.bias')],
    ] as const) {
      if (name.endsWith('bias')) expectShape(tensor, [dModel], 'd_model');
      plan(projectorTensors, name, tensor);
    }
    projectorIn = w0?.shape[1] ?? 0;
    projectorOut = w2?.shape[0] ?? 0;
  } else {
    // LLaVA's linear projector is a bare nn.Linear (`mm_projector.weight`). The package calls it
    // layer 0, like the first layer of the MLP projector.
    const w = get('mm_projector.weight');
    const b = get('mm_projector.bias');
    expectShape(w, [dModel, hiddenSize], 'vision width in, d_model out');
    expectShape(b, [dModel], 'd_model');
    plan(projectorTensors, 'mm_projector.0.weight', w);
    plan(projectorTensors, 'mm_projector.0.bias', b);
    projectorIn = w?.shape[1] ?? 0;
    projectorOut = w?.shape[0] ?? 0;
  }
  config.agree('mm_hidden_size', projectorIn, 'the projector input width');

  if (missing.length) {
    throw new ModelConfigError(
      `The checkpoint lacks ${missing.length} tensor${missing.length === 1 ? '' : 's'} the model needs: ${missing.join(', ')}. ` +
        'It is not a complete LLaVaOLMoBitnet1B checkpoint, or its config.json does not match it.',
    );
  }
  const known = new Set(required);
  for (const name of byName.keys()) if (!known.has(name) && !lmTensors.concat(visionTensors, projectorTensors).some((t) => t.name === name)) unexpected.push(byName.get(name)!.name);
  if (nLayers === 0) throw new ModelConfigError('The checkpoint has no transformer.blocks; it is not an OLMo-Bitnet language model.');

  const eos = config.number('eos_token_id', 50279);
  const llm: LanguageModelConfig = {
    dModel,
    nHeads,
    nLayers,
    mlpHidden,
    vocabSize: config.number('vocab_size', Math.min(embeddingSize, 50280)),
    embeddingSize,
    maxSequenceLength: config.number('max_sequence_length', 2048),
    ropeTheta: config.number('rope_theta', 10000),
    layerNormEps: config.number('layer_norm_eps', 1e-5),
    layerNormType,
    layerNormWithAffine,
    clipQkv,
    weightTying,
    eosTokenIds: eos === 0 ? [0] : [eos, 0],
    padTokenId: config.number('pad_token_id', 1),
  };
  if (llm.vocabSize > embeddingSize) throw new ModelConfigError(`config.json: vocab_size ${llm.vocabSize} is over the embedding's ${embeddingSize} rows.`);
  const visionConfig: VisionConfig = {
    hiddenSize,
    intermediateSize,
    numHeads: visionHeads,
    numLayers,
    layersUsed,
    imageSize,
    patchSize,
    layerNormEps: vision.number('layer_norm_eps', CLIP_DEFAULTS.layer_norm_eps),
    hiddenAct,
    selectFeature,
  };
  const projector: ProjectorConfig = { type: projectorType, inDim: projectorIn, outDim: projectorOut };
  const aspect = config.choice('image_aspect_ratio', ['pad', 'square', null] as const, 'pad');
  const image: ImagePreprocessConfig = {
    aspect: aspect === 'pad' ? 'pad' : 'crop',
    size: imageSize,
    mean: CLIP_MEAN,
    std: CLIP_STD,
    background: CLIP_MEAN.map((m) => Math.floor(m * 255)) as [number, number, number],
  };
  return {
    config: { llm, vision: visionConfig, projector, image },
    tensors: [...visionTensors, ...projectorTensors, ...lmTensors],
    skipped,
    unexpected,
  };
}
