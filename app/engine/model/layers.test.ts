// Per-layer checks: the reference's own input goes into the engine's kernels for one layer, so
// a difference points at that layer alone.
import { describe, expect, it } from 'vitest';
import { layerNormKernel } from '../kernels/layernorm.ts';
import { quantizeActivations } from '../kernels/quantize.ts';
import { ternaryLinear } from '../kernels/ternary.ts';
import { testContext, expectClose } from '../../test/gpu.ts';
import { bitLinear, layerNorm, ReferenceCache, ReferenceModel, type ReferenceTrace } from '../reference/model.ts';
import { names, resolveDims } from './config.ts';
import { buildTestPackage, TINY_SHAPE } from './test-package.ts';
import { loadWeights } from './weights.ts';

describe('model layers on the GPU', () => {
  it('block norm and BitLinear projections match the reference', async () => {
    const ctx = await testContext();
    const source = buildTestPackage();
    const dims = resolveDims(source.manifest);
    const model = await ReferenceModel.load(source);
    const weights = await loadWeights(ctx, source, dims);
    const trace: ReferenceTrace = { blockInputs: [] };
    const ids = [9, 10, 11, 12, 13];
    model.forward(model.embed(ids), new ReferenceCache(dims), trace);

    const d = dims.llm.dModel;
    const n = ids.length;
    for (let block = 0; block < dims.llm.nLayers; block++) {
      const input = trace.blockInputs[block];
      const x = ctx.upload('x', input);
      const normed = ctx.createBuffer('normed', n * d * 4);
      const q = ctx.createBuffer('xq', n * d);
      const sx = ctx.createBuffer('sx', n * 4);
      const w = weights.get(names.block(block, 'att_proj'));
      const out = ctx.createBuffer('qkv', n * 3 * d * 4);
      ctx.run([
        layerNormKernel(ctx, x, normed, n, d, { eps: dims.llm.eps }),
        quantizeActivations(ctx, { input: normed, rows: n, cols: d, q, scales: sx }),
        ternaryLinear(ctx, { q, scales: sx, weight: w.buffer, sw: w.scale!, tokens: n, inFeatures: d, outFeatures: 3 * d, output: out }),
      ]);
      const gpu = new Float32Array(await ctx.read(out));
      const expected = bitLinear(layerNorm(input, d, dims.llm.eps), model.weights.blocks[block].attProj);
      // The integer products are exact; only the f32 rescale differs.
      expectClose(gpu, expected, 1e-4, 1e-5, `block ${block} att_proj`);
    }
    expect(weights.gpuBytes).toBeGreaterThan(0);
    weights.destroy();
  });

  it('splits the embedding across bindings', async () => {
    const ctx = await testContext();
    const source = buildTestPackage();
    const dims = resolveDims(source.manifest);
    const rowBytes = dims.llm.dModel * 2;
    const weights = await loadWeights(ctx, source, dims, { maxChunkBytes: 64 * rowBytes });
    expect(weights.embedding.map((c) => c.rows)).toEqual([64, 64, 64, TINY_SHAPE.embeddingSize - 192]);
    const last = weights.embedding[3];
    const bytes = new Uint8Array(await ctx.read(last.buffer, last.rows * rowBytes));
    const stored = await source.readTensor(names.wte);
    expect(Array.from(bytes)).toEqual(Array.from(stored.subarray(192 * rowBytes)));
    weights.destroy();
  });
});
