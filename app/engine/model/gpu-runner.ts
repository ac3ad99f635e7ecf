/**
 * The GPU engine as a `ModelRunner`.
 *
 * Planned forward pass, one command buffer a step, dispatches numbered as they will be encoded:
 *
 *   image (once a conversation):
 *     1 patch embedding (stride-p conv as a dense matmul) + CLS + positions   [grid²+1, hidden]
 *     2 pre_layrnorm
 *     per vision layer i < layersUsed:
 *       3 layer_norm1  4 q, k, v dense (+bias)  5 full attention  6 out_proj dense (+residual)
 *       7 layer_norm2  8 fc1 dense (+bias)      9 quick_gelu      10 fc2 dense (+residual)
 *     11 projector 0 dense  12 exact GELU  13 projector 2 dense → image embeddings [tokens, dModel]
 *   step (prefill of T rows or one decoded token):
 *     14 embedding rows: f16 rows of the chunked `wte` copied, image rows copied at the marker
 *     per block:
 *       15 attn_norm  16 quantize  17 att_proj (ternary)  18 clip_qkv (when set)
 *       19 RoPE q, k from the uploaded double-precision table  20 write k, v into the cache
 *       21 causal attention over the cache  22 quantize  23 attn_out (ternary, += residual)
 *       24 ff_norm  25 quantize  26 ff_proj (ternary)  27 SwiGLU  28 quantize  29 ff_out (+= residual)
 *     30 ln_f on the last row  31 tied head, one dense matmul per embedding chunk
 *     32 sampling (greedy or temperature + top-p, ids ≥ vocab masked) → one u32 read back
 *
 * TODO: the kernels of steps 1, 5, 9, 12, 14, 18–21, 27 and 32 (patch embedding, attention,
 * RoPE, KV cache, activations, embedding gather and sampling) are not in app/engine/kernels yet,
 * so `createGpuRunner` loads nothing and raises EngineIncompleteError naming them.
 */
import type { TensorSource } from '../../checkpoint/manifest.ts';
import type { GpuContext } from '../gpu/context.ts';
import { resolveDims } from './config.ts';
import type { ModelRunner } from './runner.ts';
import type { LoadOptions } from './weights.ts';

/** The engine lacks GPU kernels the forward pass needs. */
export class EngineIncompleteError extends Error {
  override name = 'EngineIncompleteError';
  constructor(readonly missing: string[]) {
    super(`This build cannot run the model on the GPU yet: the ${missing.join(', ')} kernels are missing. Update Trit to a build that has them.`);
  }
}

/** Kernels of the forward pass not built yet (see the plan above). */
export const MISSING_KERNELS = ['patch embedding', 'attention', 'RoPE', 'KV cache', 'activation', 'embedding gather', 'sampling'];

export interface GpuRunnerOptions extends LoadOptions {}

/** Checks the package's config, uploads its weights and returns the runner. */
export async function createGpuRunner(_ctx: GpuContext, source: TensorSource, _options: GpuRunnerOptions = {}): Promise<ModelRunner & { gpuBytes: number }> {
  resolveDims(source.manifest);
  throw new EngineIncompleteError(MISSING_KERNELS);
}
