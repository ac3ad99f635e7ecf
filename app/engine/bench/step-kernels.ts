// Times the non-matmul kernels at the model's shapes, and both argmax variants of the sampler.
// Run: npx tsx app/engine/bench/step-kernels.ts [--runs N]
// Prints one line a kernel: name, shape, median ms (GPU timestamps when the adapter has them).
import '../gpu/shaders.node.ts';
import { parseArgs } from 'node:util';
import { GpuContext, type Dispatch } from '../gpu/context.ts';
import { describeAdapter } from '../gpu/device.ts';
import { requestNodeDevice } from '../gpu/node.ts';
import { cachedAttentionKernel, decodeAttentionKernels, fullAttentionKernel } from '../kernels/attention.ts';
import { geluKernel, swigluKernel } from '../kernels/elementwise.ts';
import { embeddingKernel, uploadHalfTable } from '../kernels/embedding.ts';
import { createKvCache, kvWriteKernel } from '../kernels/kv-cache.ts';
import { layerNormKernel } from '../kernels/layernorm.ts';
import { ropeKernel, uploadRopeTable } from '../kernels/rope.ts';
import { sampleKernel } from '../kernels/sample.ts';
import { createStepBuffer } from '../kernels/step.ts';
import { reductionWorkgroupSize } from '../kernels/workgroup-size.ts';
import { timeDispatches } from './timer.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);

const handle = await requestNodeDevice();
const ctx = new GpuContext(handle);
console.log(`adapter: ${describeAdapter(handle.summary)}; reduction workgroup ${reductionWorkgroupSize(ctx)} threads`);

const d = 2048;
const heads = 16;
const headDim = 128;
const vocab = 50280;
const random = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 4);

const step = createStepBuffer(ctx, 'bench step', { position: 2047, kvLength: 2048, temperature: 0.2, topP: 0.7, seed: 1 });
const row = ctx.upload('row', random(d));
const rowOut = ctx.createBuffer('row out', d * 4);
const qkv = ctx.upload('qkv', random(3 * d));
const cache = createKvCache(ctx, { layers: 1, heads, headDim, maxPositions: 2048 });
ctx.write(cache.layers[0], random(cache.layers[0].size / 4));
const ff = ctx.upload('ff', random(16384));
const ffOut = ctx.createBuffer('ff out', 8192 * 4);
const clipRows = ctx.upload('clip rows', random(577 * 1024));
const clipOut = ctx.createBuffer('clip out', 577 * 1024 * 4);
const clipQkv = ctx.upload('clip qkv', random(577 * 3 * 1024));
const logits = ctx.upload('logits', random(50304));
const token = ctx.createBuffer('token', 4);
const table = uploadHalfTable(ctx, 'wte', new Uint16Array(50304 * d).fill(0x3c00), 50304, d);
const ids = ctx.upload('ids', Uint32Array.of(40000));
const stepGreedy = createStepBuffer(ctx, 'bench greedy step', { position: 0, kvLength: 1, temperature: 0 });

const cases: [string, string, Dispatch[]][] = [
  ['layernorm', '[1, 2048]', [layerNormKernel(ctx, row, rowOut, 1, d)]],
  ['layernorm affine', '[577, 1024]', [layerNormKernel(ctx, clipRows, clipOut, 577, 1024, { weight: row, bias: row })]],
  ['rope', 'T=1, 16×128', [ropeKernel(ctx, qkv, uploadRopeTable(ctx, 2048, headDim, 10000), step, 1, heads)]],
  ['kv write', 'T=1', [kvWriteKernel(ctx, qkv, cache, 0, step, 1)]],
  ['decode attention', 'kvLength 2048, 16×128', [cachedAttentionKernel(ctx, qkv, cache, 0, rowOut, step, 1)]],
  ['decode attention (split)', 'kvLength 2048, 16×128', decodeAttentionKernels(ctx, qkv, cache, 0, rowOut, step, { variant: 'split' })],
  ['swiglu', '[1, 8192]', [swigluKernel(ctx, ff, ffOut, 1, 8192)]],
  ['gelu exact', '576 × 1024 values', [geluKernel(ctx, clipRows, clipOut, 576 * 1024, 'exact')]],
  ['embedding', 'T=1, 2 parts', embeddingKernel(ctx, ids, table, rowOut, 1)],
  ['sample greedy (workgroup)', `vocab ${vocab}`, [sampleKernel(ctx, logits, token, stepGreedy, { vocabSize: vocab, variant: 'workgroup' })]],
  ['sample top-p (workgroup)', `vocab ${vocab}`, [sampleKernel(ctx, logits, token, step, { vocabSize: vocab, variant: 'workgroup' })]],
];
if (ctx.has('subgroups')) {
  cases.push(['sample greedy (subgroups)', `vocab ${vocab}`, [sampleKernel(ctx, logits, token, stepGreedy, { vocabSize: vocab, variant: 'subgroups' })]]);
  cases.push(['sample top-p (subgroups)', `vocab ${vocab}`, [sampleKernel(ctx, logits, token, step, { vocabSize: vocab, variant: 'subgroups' })]]);
}
cases.push(['clip attention', '577 tokens, 16×64', [fullAttentionKernel(ctx, clipQkv, clipOut, 577, 16, 64)]]);

for (const [name, shape, dispatches] of cases) {
  const timing = await timeDispatches(ctx, dispatches, { runs, warmup: 1 });
  console.log(`${name.padEnd(28)} ${shape.padEnd(24)} ${timing.medianMs.toFixed(3)} ms (${timing.method})`);
}
handle.device.destroy();
