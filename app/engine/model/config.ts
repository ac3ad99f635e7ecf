/**
 * The model's dimensions, taken from the package's tensor shapes and checked against its config.
 * Whatever a shape decides (widths, layer counts, image size) comes from the tensors. A config
 * value that disagrees with a shape is an error naming both. A switch that the engine does not
 * implement is an error naming the key and value.
 */
import type { PackageManifest, TensorEntry } from '../../checkpoint/manifest.ts';
import { ModelConfigError } from './errors.ts';

export interface LanguageDims {
  dModel: number;
  nHeads: number;
  headDim: number;
  nLayers: number;
  /** SwiGLU hidden width: `ff_proj` has 2·mlpHidden rows, `ff_out` has mlpHidden columns. */
  mlpHidden: number;
  vocabSize: number;
  embeddingSize: number;
  maxSequenceLength: number;
  ropeTheta: number;
  eps: number;
  normType: 'default' | 'rms';
  /** Block norms and `ln_f` carry weight tensors (and bias tensors for LayerNorm). */
  normAffine: boolean;
  clipQkv: number | null;
  eosTokenIds: number[];
}

export interface VisionDims {
  hidden: number;
  nHeads: number;
  headDim: number;
  intermediate: number;
  /** Layers run: the output of layer `layersUsed` (1-based) is the selected hidden state. */
  layersUsed: number;
  imageSize: number;
  patchSize: number;
  /** Patches per side. */
  grid: number;
  eps: number;
  act: 'quick_gelu' | 'gelu';
  /** True when the CLS row is dropped ('patch' features). */
  dropCls: boolean;
}

export interface ProjectorDims {
  type: 'mlp2x_gelu' | 'linear';
  inDim: number;
  outDim: number;
}

export interface ModelDims {
  llm: LanguageDims;
  vision: VisionDims;
  projector: ProjectorDims;
  /** Image embeddings spliced in for the `<image>` marker (576 for a 336-pixel ViT-L/14). */
  imageTokens: number;
}

/** Canonical tensor names of the package. */
export const names = {
  wte: 'transformer.wte.weight',
  block: (i: number, part: 'att_proj' | 'attn_out' | 'ff_proj' | 'ff_out') => `transformer.blocks.${i}.${part}.weight`,
  blockNorm: (i: number, norm: 'attn_norm' | 'ff_norm', param: 'weight' | 'bias') => `transformer.blocks.${i}.${norm}.${param}`,
  lnF: (param: 'weight' | 'bias') => `transformer.ln_f.${param}`,
  projector: (layer: 0 | 2, param: 'weight' | 'bias') => `mm_projector.${layer}.${param}`,
  vision: (rest: string) => `vision_tower.vision_model.${rest}`,
  visionLayer: (i: number, rest: string) => `vision_tower.vision_model.encoder.layers.${i}.${rest}`,
};

/** The token id that marks where the image embeddings go in a prompt (defined with the prompt builder). */
export { IMAGE_TOKEN_ID as IMAGE_MARKER_ID } from '../../tokenizer/prompt.ts';

function tensor(manifest: PackageManifest, name: string): TensorEntry {
  const entry = manifest.tensors[name];
  if (!entry) throw new ModelConfigError(`The package has no tensor "${name}"; convert the checkpoint again with \`trit convert\`.`);
  return entry;
}

function agree(key: string, configValue: number, shapeValue: number, shapeOf: string): void {
  if (configValue !== shapeValue) {
    throw new ModelConfigError(`Config ${key} is ${configValue}, but ${shapeOf} gives ${shapeValue}, so the package's config and tensors disagree. Convert the checkpoint again with \`trit convert\`.`);
  }
}

/** Reads the dimensions from `manifest`, checking every switch and every config value a shape fixes. */
export function resolveDims(manifest: PackageManifest): ModelDims {
  const { llm, vision, projector } = manifest.model;

  if (llm.layerNormType !== 'default' && llm.layerNormType !== 'rms') {
    throw new ModelConfigError(`Config layer_norm_type is "${String(llm.layerNormType)}"; the engine implements "default" (LayerNorm) and "rms".`);
  }
  if (llm.clipQkv !== null && !(llm.clipQkv > 0)) {
    throw new ModelConfigError(`Config clip_qkv is ${llm.clipQkv}; it must be null or a positive number.`);
  }
  if (!llm.weightTying) {
    throw new ModelConfigError('Config weight_tying is false; the engine implements the tied head only (logits = h · wteᵀ).');
  }
  if (vision.hiddenAct !== 'quick_gelu' && vision.hiddenAct !== 'gelu') {
    throw new ModelConfigError(`Config vision_config.hidden_act is "${String(vision.hiddenAct)}"; the engine implements "quick_gelu" and "gelu".`);
  }
  if (projector.type !== 'mlp2x_gelu' && projector.type !== 'linear') {
    throw new ModelConfigError(`Config mm_projector_type is "${String(projector.type)}"; the engine implements "mlp2x_gelu" and "linear".`);
  }

  // Language model: widths from the embedding and the first block.
  const wte = tensor(manifest, names.wte);
  const [embeddingSize, dModel] = wte.shape;
  agree('d_model', llm.dModel, dModel, `${names.wte} ${JSON.stringify(wte.shape)}`);
  agree('embedding_size', llm.embeddingSize, embeddingSize, `${names.wte} ${JSON.stringify(wte.shape)}`);
  let nLayers = 0;
  while (manifest.tensors[names.block(nLayers, 'att_proj')]) nLayers++;
  agree('n_layers', llm.nLayers, nLayers, 'the number of transformer.blocks.N.att_proj tensors');
  const attProj = tensor(manifest, names.block(0, 'att_proj'));
  agree('3 · d_model', 3 * dModel, attProj.shape[0], `${names.block(0, 'att_proj')} ${JSON.stringify(attProj.shape)}`);
  const ffProj = tensor(manifest, names.block(0, 'ff_proj'));
  const mlpHidden = ffProj.shape[0] / 2;
  agree('mlp_hidden_size', llm.mlpHidden, mlpHidden, `half the rows of ${names.block(0, 'ff_proj')} ${JSON.stringify(ffProj.shape)}`);
  if (dModel % llm.nHeads !== 0) throw new ModelConfigError(`Config n_heads ${llm.nHeads} does not divide d_model ${dModel}.`);
  const headDim = dModel / llm.nHeads;
  if (headDim % 2 !== 0) throw new ModelConfigError(`The head dimension ${headDim} is odd; rotate-half RoPE needs an even one.`);
  if (llm.vocabSize > embeddingSize) throw new ModelConfigError(`Config vocab_size ${llm.vocabSize} is over the embedding's ${embeddingSize} rows.`);

  // Vision tower: image size from the position embedding, widths from the patch embedding.
  const patch = tensor(manifest, names.vision('embeddings.patch_embedding.weight'));
  const [hidden, , patchSize] = patch.shape;
  const positions = tensor(manifest, names.vision('embeddings.position_embedding.weight')).shape[0];
  const grid = Math.round(Math.sqrt(positions - 1));
  if (grid * grid !== positions - 1) throw new ModelConfigError(`The vision position embedding has ${positions} rows, which is not a square grid plus one CLS row.`);
  agree('vision_config.hidden_size', vision.hiddenSize, hidden, `the patch embedding ${JSON.stringify(patch.shape)}`);
  agree('vision_config.patch_size', vision.patchSize, patchSize, `the patch embedding ${JSON.stringify(patch.shape)}`);
  agree('vision_config.image_size', vision.imageSize, grid * patchSize, `the position embedding's ${positions} rows`);
  const fc1 = tensor(manifest, names.visionLayer(0, 'mlp.fc1.weight'));
  agree('vision_config.intermediate_size', vision.intermediateSize, fc1.shape[0], `${names.visionLayer(0, 'mlp.fc1.weight')} ${JSON.stringify(fc1.shape)}`);
  if (hidden % vision.numHeads !== 0) throw new ModelConfigError(`Config vision_config.num_attention_heads ${vision.numHeads} does not divide the vision width ${hidden}.`);
  if (!(vision.layersUsed >= 1 && vision.layersUsed <= vision.numLayers)) {
    throw new ModelConfigError(`The vision tower runs ${vision.layersUsed} of ${vision.numLayers} layers; check mm_vision_select_layer.`);
  }
  for (let i = 0; i < vision.layersUsed; i++) tensor(manifest, names.visionLayer(i, 'mlp.fc2.weight'));

  // Projector.
  const p0 = tensor(manifest, names.projector(0, 'weight'));
  agree('mm_hidden_size', projector.inDim, p0.shape[1], `${names.projector(0, 'weight')} ${JSON.stringify(p0.shape)}`);
  if (p0.shape[1] !== hidden) {
    throw new ModelConfigError(`${names.projector(0, 'weight')} ${JSON.stringify(p0.shape)} takes ${p0.shape[1]} inputs, but the vision width is ${hidden}; the tensors disagree.`);
  }
  const last = projector.type === 'mlp2x_gelu' ? tensor(manifest, names.projector(2, 'weight')) : p0;
  agree('d_model', dModel, last.shape[0], `the projector's output rows ${JSON.stringify(last.shape)}`);

  const dropCls = vision.selectFeature === 'patch';
  return {
    llm: {
      dModel,
      nHeads: llm.nHeads,
      headDim,
      nLayers,
      mlpHidden,
      vocabSize: llm.vocabSize,
      embeddingSize,
      maxSequenceLength: llm.maxSequenceLength,
      ropeTheta: llm.ropeTheta,
      eps: llm.layerNormEps,
      normType: llm.layerNormType,
      normAffine: llm.layerNormWithAffine,
      clipQkv: llm.clipQkv,
      eosTokenIds: llm.eosTokenIds,
    },
    vision: {
      hidden,
      nHeads: vision.numHeads,
      headDim: hidden / vision.numHeads,
      intermediate: fc1.shape[0],
      layersUsed: vision.layersUsed,
      imageSize: grid * patchSize,
      patchSize,
      grid,
      eps: vision.layerNormEps,
      act: vision.hiddenAct,
      dropCls,
    },
    projector: { type: projector.type, inDim: p0.shape[1], outDim: dModel },
    imageTokens: grid * grid + (dropCls ? 0 : 1),
  };
}
