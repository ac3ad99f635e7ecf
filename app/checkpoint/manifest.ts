/**
 * The converted package: `manifest.json` plus safetensors shards plus tokenizer files, as
 * `trit convert` writes it and the worker streams it. Tensor names are canonical: the
 * checkpoint's prefix is stripped (`transformer.blocks.0.att_proj.weight`,
 * `vision_tower.vision_model.embeddings.patch_embedding.weight`, `mm_projector.0.weight`).
 */

export const PACKAGE_FORMAT = 'trit-package';
export const PACKAGE_FORMAT_VERSION = 1;

/** Storage of one tensor in a shard. */
export type PackedDtype =
  /** IEEE half floats, little-endian. */
  | 'f16'
  /** IEEE single floats, little-endian. */
  | 'f32'
  /** Ternary codes in the layout `TERNARY_PACKING` names in `app/engine/ternary/pack.ts`, as u32 words. */
  | 'ternary2';

export interface TensorEntry {
  dtype: PackedDtype;
  /** Logical shape, e.g. [6144, 2048] for a ternary `att_proj`, whatever the packing. */
  shape: number[];
  /** Index into `shards`. */
  shard: number;
  /** Byte offset of the tensor's data from the start of the shard file (safetensors header included). */
  offset: number;
  /** Byte length of the tensor's data. */
  bytes: number;
  /** For `ternary2`: the packing name (`TERNARY_PACKING` of `app/engine/ternary/pack.ts`). */
  packing?: string;
  /** For `ternary2`: sw = 1 / max(mean|W|, 1e-5); the kernel divides the integer product by sx · sw. */
  scale?: number;
}

export interface ShardEntry {
  file: string;
  bytes: number;
  sha256: string;
}

export interface LanguageModelConfig {
  dModel: number;
  nHeads: number;
  nLayers: number;
  /** SwiGLU hidden width (half of `ff_proj`'s output rows). */
  mlpHidden: number;
  /** Real tokens; ids at or above it are never sampled. */
  vocabSize: number;
  /** Rows of the embedding (≥ vocabSize). */
  embeddingSize: number;
  maxSequenceLength: number;
  ropeTheta: number;
  layerNormEps: number;
  layerNormType: 'default' | 'rms';
  /** Block norms have weight (and bias for LayerNorm) tensors. */
  layerNormWithAffine: boolean;
  /** When set, q, k and v are clamped to ±clipQkv after `att_proj`. */
  clipQkv: number | null;
  weightTying: boolean;
  eosTokenIds: number[];
  padTokenId: number;
}

export interface VisionConfig {
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  /** Layers in the checkpoint. */
  numLayers: number;
  /** Layers actually run: the output of layer `layersUsed` (1-based) is the selected hidden state. */
  layersUsed: number;
  imageSize: number;
  patchSize: number;
  layerNormEps: number;
  hiddenAct: 'quick_gelu' | 'gelu';
  /** 'patch' drops the CLS row; 'cls_patch' keeps it. */
  selectFeature: 'patch' | 'cls_patch';
}

export interface ProjectorConfig {
  type: 'mlp2x_gelu' | 'linear';
  inDim: number;
  outDim: number;
}

export interface ImagePreprocessConfig {
  /** 'pad' pads to a square with `background` before the resize, as LLaVA-1.5 does. */
  aspect: 'pad' | 'crop';
  size: number;
  mean: [number, number, number];
  std: [number, number, number];
  background: [number, number, number];
}

export interface ModelConfig {
  llm: LanguageModelConfig;
  vision: VisionConfig;
  projector: ProjectorConfig;
  image: ImagePreprocessConfig;
}

/** LLaVA conversation template, kept as data because it is not verified for every checkpoint. */
export interface ChatTemplate {
  system: string;
  /** First user turn, with `{question}`; `<image>\n` marks where the image embeddings go. */
  firstTurn: string;
  /** Same turn without an image. */
  firstTurnTextOnly: string;
  /** Appended for each later turn, with `{answer}` (the previous answer) and `{question}`. */
  laterTurn: string;
  imageToken: string;
  /** Text that ends an answer when it appears in the decoded output. */
  stopText: string;
}

export interface PackageManifest {
  format: typeof PACKAGE_FORMAT;
  formatVersion: typeof PACKAGE_FORMAT_VERSION;
  /** Display name of the package's origin, e.g. "IntelLabs/LlavaOLMoBitnet1B" or "random demo". */
  name: string;
  /** True for packages with random weights, whose answers are noise. */
  randomWeights?: boolean;
  model: ModelConfig;
  chatTemplate: ChatTemplate;
  tokenizer: { file: string; bytes: number; sha256: string };
  shards: ShardEntry[];
  tensors: Record<string, TensorEntry>;
}

export const DEFAULT_CHAT_TEMPLATE: ChatTemplate = {
  system:
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.",
  firstTurn: ' USER: <image>\n{question} ASSISTANT:',
  firstTurnTextOnly: ' USER: {question} ASSISTANT:',
  laterTurn: ' {answer}</s>USER: {question} ASSISTANT:',
  imageToken: '<image>',
  stopText: '</s>',
};

/** LLaVA-1.5 with CLIP ViT-L/14-336: pad to a square with the CLIP mean colour, 336×336, CLIP mean and std. */
export const DEFAULT_IMAGE_PREPROCESS: ImagePreprocessConfig = {
  aspect: 'pad',
  size: 336,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  /** The mean × 255, truncated, as LLaVA's `expand2square` receives it. */
  background: [122, 116, 104],
};

/**
 * Reads the stored bytes of a package's tensors, from files under Node or from IndexedDB in the
 * worker. The model loader asks for tensors in shard order and uploads each one before asking
 * for the next, so at most one shard's worth of bytes is held outside the GPU.
 */
export interface TensorSource {
  readonly manifest: PackageManifest;
  /** Returns the bytes of tensor `name` exactly as `manifest.tensors[name]` describes them. */
  readTensor(name: string): Promise<Uint8Array>;
  /** Returns the tokenizer file's text. */
  readTokenizer(): Promise<string>;
}
