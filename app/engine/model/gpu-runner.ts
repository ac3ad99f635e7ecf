/**
 * The GPU engine as a `ModelRunner`: the vision tower and projector once per photo, then prefill
 * and decoding of the language model over a KV cache, sampling on the GPU so that a step reads
 * back one token id. Prompts longer than one prefill chunk run as several chunks, one command
 * buffer each; a decoding step is one command buffer.
 *
 * Dispatches, numbered as they are encoded:
 *
 *   image (once a photo), `encodeImage`:
 *     1 patch embedding: the stride-p convolution as a dense matmul over patches cut on the CPU
 *       (then CLS copied into row 0, patches into rows 1..)
 *     2 + position embedding     3 pre_layrnorm
 *     per vision layer i < layersUsed:
 *       4 layer_norm1  5 q, k, v dense (+bias)  6 full attention  7 out_proj dense (+bias)  8 residual add
 *       9 layer_norm2  10 fc1 dense (+bias)     11 quick_gelu      12 fc2 dense (+bias)      13 residual add
 *     (CLS row dropped by a copy)  14 projector 0 dense  15 exact GELU  16 projector 2 dense
 *   step (a prefill chunk of T rows, or one decoded token), `step`:
 *     17 embedding gather, one dispatch per embedding chunk (then image rows copied in)
 *     per block:
 *       18 attn_norm  19 quantize  20 att_proj (ternary)  21 clip_qkv + RoPE on q and k
 *       22 k, v written into the cache at their positions
 *       23 causal attention over the cache
 *       24 quantize  25 attn_out (ternary, += residual)
 *       26 ff_norm  27 quantize  28 ff_proj (ternary)  29 SwiGLU  30 quantize  31 ff_out (ternary, += residual)
 *     (last row copied out)  32 ln_f  33 tied head, one dense mat-vec per embedding chunk
 *     34 sampling (greedy, or temperature + top-p with the seed) → one u32, copied to a mapped buffer
 *
 * With `dense: true` each ternary product becomes quantize → the int8 codes as f32 → a dense f16
 * product with the {-1, 0, +1} weights (exact in f32) → the rescale by 1 / (sx·sw) (+= residual),
 * for the weight-format benchmark.
 */
import { isSoftwareAdapter, probeVariant, wasProbed } from '../kernels/select.ts';
import type { TensorSource } from '../../checkpoint/manifest.ts';
import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { attentionKernel, cachedAttentionKernel, decodeAttentionKernels } from '../kernels/attention.ts';
import { denseLinear, type DenseWeight } from '../kernels/dense.ts';
import { addKernel, geluKernel, swigluKernel } from '../kernels/elementwise.ts';
import { embeddingKernel } from '../kernels/embedding.ts';
import { createKvCache, kvWriteKernel, type KvCache } from '../kernels/kv-cache.ts';
import { layerNormKernel } from '../kernels/layernorm.ts';
import { quantizeActivations } from '../kernels/quantize.ts';
import { sampleKernel } from '../kernels/sample.ts';
import { createStepBuffer, writeStepParams } from '../kernels/step.ts';
import { ropeKernel, uploadRopeTable, type RopeTable } from '../kernels/rope.ts';
import { ternaryLinear } from '../kernels/ternary.ts';
import { IMAGE_MARKER_ID, names, resolveDims, type ModelDims } from './config.ts';
import { ContextOverflowError, ModelConfigError } from './errors.ts';
import { rescale, unpackInt8 } from './kernels.ts';
import type { EncodedImage, ModelRunner, SamplingSettings } from './runner.ts';
import { loadWeights, type GpuTensor, type LoadOptions, type ModelWeights } from './weights.ts';

export interface GpuRunnerOptions extends LoadOptions {
  /** Maximum rows per prefill command buffer (default 256). */
  prefillChunk?: number;
}

/** Id written for an image row. It is past the embedding, so the gather writes zeros, which the image row then replaces. */
const IMAGE_ROW = 0xffffffff;

/** Image embeddings [tokens, dModel] f32 on the GPU. */
class GpuImage implements EncodedImage {
  constructor(
    readonly buffer: GPUBuffer,
    readonly tokens: number,
  ) {}

  release(): void {
    this.buffer.destroy();
  }
}

/** Checks the package's config, uploads its weights and returns the runner. */
export async function createGpuRunner(ctx: GpuContext, source: TensorSource, options: GpuRunnerOptions = {}): Promise<GpuRunner> {
  const dims = resolveDims(source.manifest);
  // On a GPU, time the kernel variants once so the runner's dispatches use the faster ones. On
  // software adapters the timings are known (see tuning.ts) and the probe would only add seconds.
  // The probe makes its choice the context's variant.
  if (!isSoftwareAdapter(ctx) && !wasProbed(ctx)) await probeVariant(ctx);
  const weights = await loadWeights(ctx, source, dims, options);
  let runner: GpuRunner | undefined;
  try {
    runner = new GpuRunner(ctx, dims, weights, options);
    ctx.throwUncaptured();
    return runner;
  } catch (error) {
    // The runner owns the weights once built; destroying it frees both.
    if (runner) runner.destroy();
    else weights.destroy();
    throw error;
  }
}

function denseOf(t: GpuTensor): DenseWeight {
  if (t.dtype === 'ternary2') throw new ModelConfigError(`Tensor "${t.name}" is ternary where a dense matrix is expected.`);
  return { parts: [t.buffer], rowsPerPart: t.shape[0], dtype: t.dtype };
}

export class GpuRunner implements ModelRunner {
  length = 0;
  /** Bytes of every buffer the runner holds: weights, KV cache, activations. */
  gpuBytes: number;
  readonly chunk: number;
  private readonly dense: boolean;
  private readonly buffers: GPUBuffer[] = [];
  private readonly stepParams: GPUBuffer;
  private readonly ids: GPUBuffer;
  private readonly cache: KvCache;
  private readonly rope: RopeTable;
  private readonly act: Record<'x' | 'normed' | 'q8' | 'sx' | 'qkv' | 'att' | 'u' | 'h' | 'xd' | 'tmp' | 'last' | 'lastNormed' | 'logits' | 'token', GPUBuffer>;
  private readonly tokenStaging: GPUBuffer;
  private logitsStaging: GPUBuffer | undefined;
  private readonly plans = new Map<number, { gather: Dispatch[]; blocks: Dispatch[] }>();
  private readonly head: Dispatch[];

  constructor(
    readonly ctx: GpuContext,
    readonly dims: ModelDims,
    readonly weights: ModelWeights,
    options: GpuRunnerOptions = {},
  ) {
    const { dModel: d, mlpHidden: H, maxSequenceLength: S, embeddingSize: E, headDim } = dims.llm;
    this.dense = options.dense ?? false;
    this.chunk = Math.max(1, Math.min(options.prefillChunk ?? 256, S));
    const C = this.chunk;
    const make = (label: string, bytes: number) => {
      const b = ctx.createBuffer(label, bytes);
      this.buffers.push(b);
      return b;
    };
    try {
      this.stepParams = createStepBuffer(ctx, 'model step params');
      this.buffers.push(this.stepParams);
      this.ids = make('step token ids', C * 4);
      this.cache = createKvCache(ctx, { layers: dims.llm.nLayers, heads: dims.llm.nHeads, headDim, maxPositions: S });
      this.buffers.push(...this.cache.layers);
      // Angles in double precision, as the CPU reference builds them.
      this.rope = uploadRopeTable(ctx, S, headDim, dims.llm.ropeTheta, 'float64');
      this.buffers.push(this.rope.buffer);
      const wide = Math.max(d, H);
      this.act = {
        x: make('residual stream', C * d * 4),
        normed: make('block norm output', C * d * 4),
        q8: make('int8 activations', C * wide),
        sx: make('activation scales', C * 4),
        qkv: make('att_proj output', C * 3 * d * 4),
        att: make('attention output', C * d * 4),
        u: make('ff_proj output', C * 2 * H * 4),
        h: make('SwiGLU output', C * H * 4),
        xd: this.dense ? make('int8 activations as f32', C * wide * 4) : make('unused', 4),
        tmp: this.dense ? make('dense product', C * Math.max(3 * d, 2 * H) * 4) : make('unused', 4),
        last: make('last row', d * 4),
        lastNormed: make('last row after ln_f', d * 4),
        logits: make('logits', E * 4),
        token: make('sampled token', 4),
      };
      this.tokenStaging = ctx.device.createBuffer({ label: 'sampled token readback', size: 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
      this.buffers.push(this.tokenStaging);
      this.gpuBytes = weights.gpuBytes + this.buffers.reduce((n, b) => n + b.size, 0);

      // 32-34: ln_f, the tied head over the embedding's chunks, sampling.
      const { llm } = dims;
      const chunks = weights.embedding;
      const head: DenseWeight = { parts: chunks.map((c) => c.buffer), rowsPerPart: chunks[0].rows, dtype: 'f16' };
      this.head = [
        this.norm(this.act.last, this.act.lastNormed, 1, 'transformer.ln_f'),
        ...denseLinear(ctx, { input: this.act.lastNormed, weight: head, tokens: 1, inFeatures: llm.dModel, outFeatures: E, output: this.act.logits }),
        sampleKernel(ctx, this.act.logits, this.act.token, this.stepParams, { vocabSize: llm.vocabSize }),
      ];
    } catch (error) {
      // A failed allocation or pipeline leaves nothing behind; the caller frees the weights.
      for (const b of this.buffers) b.destroy();
      throw error;
    }
  }

  /** Builds a block norm or ln_f (`prefix` without `.weight`): LayerNorm or RMSNorm, with weights when the package has them. */
  private norm(x: GPUBuffer, y: GPUBuffer, rows: number, prefix: string): Dispatch {
    const { llm } = this.dims;
    return layerNormKernel(this.ctx, x, y, rows, llm.dModel, {
      kind: llm.normType === 'rms' ? 'rms' : 'layer',
      weight: this.weights.find(`${prefix}.weight`)?.buffer,
      bias: llm.normType === 'rms' ? undefined : this.weights.find(`${prefix}.bias`)?.buffer,
      eps: llm.eps,
      label: prefix,
    });
  }

  /** Builds BitLinear158 of `input` [T, inF] into `output` [T, outF], adding to it when `accumulate` is set. */
  private bitLinear(name: string, input: GPUBuffer, T: number, inF: number, outF: number, output: GPUBuffer, accumulate = false): Dispatch[] {
    const { ctx, act } = this;
    const w = this.weights.get(name);
    const quantize = quantizeActivations(ctx, { input, rows: T, cols: inF, q: act.q8, scales: act.sx });
    if (w.dtype === 'ternary2') {
      return [quantize, ternaryLinear(ctx, { q: act.q8, scales: act.sx, weight: w.buffer, sw: w.scale!, tokens: T, inFeatures: inF, outFeatures: outF, output, accumulate })];
    }
    return [
      quantize,
      unpackInt8(ctx, { q: act.q8, tokens: T, cols: inF, output: act.xd }),
      ...denseLinear(ctx, { input: act.xd, weight: denseOf(w), tokens: T, inFeatures: inF, outFeatures: outF, output: act.tmp }),
      rescale(ctx, { acc: act.tmp, scales: act.sx, sw: w.scale!, tokens: T, cols: outF, output, accumulate }),
    ];
  }

  /** Builds dispatches 18-31: block `i` on the T rows of the residual stream, at the step's positions. */
  private block(i: number, T: number): Dispatch[] {
    const { ctx, act } = this;
    const { dModel: d, mlpHidden: H, nHeads, clipQkv } = this.dims.llm;
    // Decoding uses the adapter's decode-attention variant. Prefill runs one workgroup per (token, head).
    const attend = T === 1 ? decodeAttentionKernels(ctx, act.qkv, this.cache, i, act.att, this.stepParams) : [cachedAttentionKernel(ctx, act.qkv, this.cache, i, act.att, this.stepParams, T)];
    return [
      this.norm(act.x, act.normed, T, `transformer.blocks.${i}.attn_norm`), // 18
      ...this.bitLinear(names.block(i, 'att_proj'), act.normed, T, d, 3 * d, act.qkv), // 19, 20
      ropeKernel(ctx, act.qkv, this.rope, this.stepParams, T, nHeads, { clip: clipQkv }), // 21
      kvWriteKernel(ctx, act.qkv, this.cache, i, this.stepParams, T), // 22
      ...attend, // 23
      ...this.bitLinear(names.block(i, 'attn_out'), act.att, T, d, d, act.x, true), // 24, 25
      this.norm(act.x, act.normed, T, `transformer.blocks.${i}.ff_norm`), // 26
      ...this.bitLinear(names.block(i, 'ff_proj'), act.normed, T, d, 2 * H, act.u), // 27, 28
      swigluKernel(ctx, act.u, act.h, T, H), // 29
      ...this.bitLinear(names.block(i, 'ff_out'), act.h, T, H, d, act.x, true), // 30, 31
    ];
  }

  /**
   * Runs block `index` alone on rows `x` [T, dModel] at positions 0.. and returns its output, for
   * per-layer tests against the reference. Overwrites the block's cache rows.
   */
  async blockOutput(index: number, x: Float32Array): Promise<Float32Array> {
    const T = x.length / this.dims.llm.dModel;
    if (!Number.isInteger(T) || T < 1 || T > this.chunk) throw new RangeError(`blockOutput: ${x.length} values are not 1 to ${this.chunk} rows of ${this.dims.llm.dModel}.`);
    this.ctx.write(this.act.x, x);
    writeStepParams(this.ctx, this.stepParams, { position: 0, kvLength: T });
    this.ctx.run(this.block(index, T), `block ${index}`);
    return new Float32Array(await this.ctx.read(this.act.x, x.byteLength));
  }

  /** Returns dispatches 17-31 for a step of T rows (the embedding gather, then the blocks), built once per T. */
  private plan(T: number): { gather: Dispatch[]; blocks: Dispatch[] } {
    let plan = this.plans.get(T);
    if (plan) return plan;
    const { ctx, act, dims } = this;
    const { embeddingSize, dModel } = dims.llm;
    plan = {
      // 17: the text tokens' embedding rows, one dispatch a chunk of the embedding. Image rows get
      // zeros here (their id is past the table) and are copied in afterwards.
      gather: embeddingKernel(ctx, this.ids, { rows: embeddingSize, cols: dModel, parts: this.weights.embedding }, act.x, T),
      blocks: Array.from({ length: dims.llm.nLayers }, (_, i) => this.block(i, T)).flat(),
    };
    // Keep the decoding plan, the full chunk's and the latest remainder's.
    for (const key of this.plans.keys()) if (key !== 1 && key !== this.chunk && this.plans.size >= 3) this.plans.delete(key);
    this.plans.set(T, plan);
    return plan;
  }

  async encodeImage(pixels: Float32Array): Promise<EncodedImage> {
    const { ctx, dims } = this;
    const v = dims.vision;
    const { hidden, patchSize: p, grid, imageSize: size, intermediate } = v;
    if (pixels.length !== 3 * size * size) {
      throw new RangeError(`encodeImage: got ${pixels.length} pixel values; the model takes 3 × ${size} × ${size}. Preprocess the photo with the package's image settings.`);
    }
    const patches = grid * grid;
    const n = patches + 1;
    const k = 3 * p * p;
    // Patches cut on the CPU, each row in the conv weight's [channel, y, x] order.
    const cut = new Float32Array(patches * k);
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++) {
        const row = (gy * grid + gx) * k;
        for (let c = 0; c < 3; c++) {
          for (let ky = 0; ky < p; ky++) {
            const src = (c * size + gy * p + ky) * size + gx * p;
            cut.set(pixels.subarray(src, src + p), row + (c * p + ky) * p);
          }
        }
      }
    }
    const temporary: GPUBuffer[] = [];
    const make = (label: string, bytes: number) => {
      const b = ctx.createBuffer(label, bytes);
      temporary.push(b);
      return b;
    };
    const w = (rest: string) => this.weights.get(names.vision(rest));
    const lw = (i: number, rest: string) => this.weights.get(names.visionLayer(i, rest));
    const patchIn = ctx.upload('image patches', cut);
    temporary.push(patchIn);
    const patchOut = make('patch embeddings', patches * hidden * 4);
    const x = make('vision embeddings', n * hidden * 4);
    const r = make('vision residual stream', n * hidden * 4);
    const h = make('vision norm output', n * hidden * 4);
    const [q, kk, vv, a, tmp] = ['q', 'k', 'v', 'attention output', 'projection'].map((s) => make(`vision ${s}`, n * hidden * 4));
    const f = make('vision MLP hidden', n * intermediate * 4);
    const g = make('vision MLP activation', n * intermediate * 4);
    const tokens = dims.imageTokens;
    const features = make('vision features', tokens * hidden * 4);
    const projected = make('projector hidden', tokens * dims.llm.dModel * 4);
    const activated = make('projector activation', tokens * dims.llm.dModel * 4);
    const out = ctx.createBuffer('image embeddings', tokens * dims.llm.dModel * 4);
    try {
      const ln = (input: GPUBuffer, output: GPUBuffer, prefix: string) =>
        layerNormKernel(ctx, input, output, n, hidden, { weight: w(`${prefix}.weight`).buffer, bias: w(`${prefix}.bias`).buffer, eps: v.eps, label: prefix });
      const linear = (input: GPUBuffer, rows: number, t: GpuTensor, bias: GpuTensor, output: GPUBuffer) =>
        denseLinear(ctx, { input, weight: denseOf(t), bias: bias.buffer, tokens: rows, inFeatures: t.shape.length === 2 ? t.shape[1] : k, outFeatures: t.shape[0], output });

      const encoder = ctx.device.createCommandEncoder({ label: 'image encoding' });
      // 1: patch embedding (no bias), then CLS into row 0 and the patches into rows 1..
      ctx.encode(encoder, denseLinear(ctx, { input: patchIn, weight: { parts: [w('embeddings.patch_embedding.weight').buffer], rowsPerPart: hidden, dtype: 'f16' }, tokens: patches, inFeatures: k, outFeatures: hidden, output: patchOut }));
      encoder.copyBufferToBuffer(w('embeddings.class_embedding').buffer, 0, x, 0, hidden * 4);
      encoder.copyBufferToBuffer(patchOut, 0, x, hidden * 4, patches * hidden * 4);
      const stages: Dispatch[] = [
        addKernel(ctx, x, w('embeddings.position_embedding.weight').buffer, n * hidden, 'position embedding'), // 2
        ln(x, r, 'pre_layrnorm'), // 3
      ];
      for (let i = 0; i < v.layersUsed; i++) {
        const prefix = `encoder.layers.${i}`;
        const proj = (name: string, input: GPUBuffer, output: GPUBuffer) => linear(input, n, lw(i, `${name}.weight`), lw(i, `${name}.bias`), output);
        stages.push(
          ln(r, h, `${prefix}.layer_norm1`), // 4
          ...proj('self_attn.q_proj', h, q), // 5
          ...proj('self_attn.k_proj', h, kk),
          ...proj('self_attn.v_proj', h, vv),
          attentionKernel(ctx, {
            q: { buffer: q, offset: 0, rowStride: hidden, headStride: v.headDim },
            k: { buffer: kk, offset: 0, rowStride: hidden, headStride: v.headDim },
            v: { buffer: vv, offset: 0, rowStride: hidden, headStride: v.headDim },
            out: a,
            tokens: n,
            heads: v.nHeads,
            headDim: v.headDim,
            maxKeys: n,
            causal: false,
            label: `vision attention ${i}`,
          }), // 6
          ...proj('self_attn.out_proj', a, tmp), // 7
          addKernel(ctx, r, tmp, n * hidden), // 8
          ln(r, h, `${prefix}.layer_norm2`), // 9
          ...proj('mlp.fc1', h, f), // 10
          geluKernel(ctx, f, g, n * intermediate, v.act === 'quick_gelu' ? 'quick' : 'exact'), // 11
          ...proj('mlp.fc2', g, tmp), // 12
          addKernel(ctx, r, tmp, n * hidden), // 13
        );
      }
      ctx.encode(encoder, stages);
      // The selected hidden state without the CLS row ('patch' features).
      encoder.copyBufferToBuffer(r, v.dropCls ? hidden * 4 : 0, features, 0, tokens * hidden * 4);
      const p0 = this.weights.get(names.projector(0, 'weight'));
      const p0b = this.weights.get(names.projector(0, 'bias'));
      if (dims.projector.type === 'mlp2x_gelu') {
        ctx.encode(encoder, [
          ...linear(features, tokens, p0, p0b, projected), // 14
          geluKernel(ctx, projected, activated, tokens * dims.llm.dModel, 'exact'), // 15
          ...linear(activated, tokens, this.weights.get(names.projector(2, 'weight')), this.weights.get(names.projector(2, 'bias')), out), // 16
        ]);
      } else {
        ctx.encode(encoder, linear(features, tokens, p0, p0b, out));
      }
      ctx.device.queue.submit([encoder.finish()]);
      await ctx.device.queue.onSubmittedWorkDone();
      ctx.throwUncaptured();
      return new GpuImage(out, tokens);
    } catch (error) {
      out.destroy();
      throw error;
    } finally {
      for (const b of temporary) b.destroy();
    }
  }

  async step(ids: readonly number[], image: EncodedImage | undefined, sampling: SamplingSettings, sampleIndex: number, wantLogits?: boolean): Promise<{ token: number; logits?: Float32Array }> {
    const { ctx, dims, act } = this;
    const { dModel: d, embeddingSize: E, maxSequenceLength: S } = dims.llm;
    if (ids.length === 0) throw new RangeError('A step needs at least one token id.');
    // Each row of the step is a token id, or row r of the image embeddings stored as ~r.
    const rows: number[] = [];
    for (const id of ids) {
      if (id === IMAGE_MARKER_ID) {
        if (!(image instanceof GpuImage)) throw new RangeError('The prompt has an image marker, but no image encoded by this runner was given.');
        for (let r = 0; r < image.tokens; r++) rows.push(~r);
      } else if (Number.isInteger(id) && id >= 0 && id < E) {
        rows.push(id);
      } else {
        throw new RangeError(`Token id ${id} is outside the embedding's ${E} rows.`);
      }
    }
    if (this.length + rows.length > S) throw new ContextOverflowError(this.length + rows.length, S);

    for (let start = 0; start < rows.length; start += this.chunk) {
      const T = Math.min(this.chunk, rows.length - start);
      const last = start + T === rows.length;
      const part = rows.slice(start, start + T);
      ctx.write(this.ids, Uint32Array.from(part, (r) => (r < 0 ? IMAGE_ROW : r)));
      const position = this.length + start;
      writeStepParams(ctx, this.stepParams, { position, kvLength: position + T, sampleIndex, seed: sampling.seed, temperature: sampling.temperature, topP: sampling.topP });

      const encoder = ctx.device.createCommandEncoder({ label: last ? 'step' : 'prefill chunk' });
      const plan = this.plan(T);
      ctx.encode(encoder, plan.gather);
      // Image rows come straight from the image embeddings, in runs of consecutive rows.
      for (let t = 0; t < T; ) {
        if (part[t] >= 0) {
          t++;
          continue;
        }
        let end = t + 1;
        while (end < T && part[end] === part[end - 1] - 1) end++;
        encoder.copyBufferToBuffer((image as GpuImage).buffer, ~part[t] * d * 4, act.x, t * d * 4, (end - t) * d * 4);
        t = end;
      }
      ctx.encode(encoder, plan.blocks);
      if (last) {
        encoder.copyBufferToBuffer(act.x, (T - 1) * d * 4, act.last, 0, d * 4);
        ctx.encode(encoder, this.head);
        encoder.copyBufferToBuffer(act.token, 0, this.tokenStaging, 0, 4);
        if (wantLogits) {
          this.logitsStaging ??= ctx.device.createBuffer({ label: 'logits readback', size: E * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
          encoder.copyBufferToBuffer(act.logits, 0, this.logitsStaging, 0, E * 4);
        }
      }
      ctx.device.queue.submit([encoder.finish()]);
    }
    this.length += rows.length;

    await this.tokenStaging.mapAsync(GPUMapMode.READ);
    const token = new Uint32Array(this.tokenStaging.getMappedRange().slice(0))[0];
    this.tokenStaging.unmap();
    let logits: Float32Array | undefined;
    if (wantLogits && this.logitsStaging) {
      await this.logitsStaging.mapAsync(GPUMapMode.READ);
      logits = new Float32Array(this.logitsStaging.getMappedRange().slice(0));
      this.logitsStaging.unmap();
    }
    ctx.throwUncaptured();
    return { token, logits };
  }

  truncate(length: number): void {
    this.length = Math.max(0, Math.min(this.length, length));
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.logitsStaging?.destroy();
    this.buffers.length = 0;
    this.plans.clear();
    this.weights.destroy();
  }
}
