import { describe, expect, it } from 'vitest';
import { patchEmbedKernel } from './patch-embed.ts';
import { patchEmbedReference } from '../reference/patch-embed.ts';
import { floatToHalf, halfToFloat } from '../model/half.ts';
import { expectClose, testContext } from '../../test/gpu.ts';
import { ShapeError } from '../gpu/errors.ts';

// A 28×42 image (2×3 patches of 14), 5 channels, inputs given by formulas so that PyTorch can
// rebuild them: image[i] = sin(0.37 i), conv[i] = 0.05 cos(0.11 i), class[i] = 0.5 - 0.1 i,
// pos[i] = 0.2 sin(i), each rounded to f32.
const H = 28;
const W = 42;
const P = 14;
const C = 5;
const PATCHES = (H / P) * (W / P);
const image = Float32Array.from({ length: 3 * H * W }, (_, i) => Math.sin(i * 0.37));
const conv = Float32Array.from({ length: C * 3 * P * P }, (_, i) => Math.cos(i * 0.11) * 0.05);
const classEmbedding = Float32Array.from({ length: C }, (_, i) => 0.5 - i * 0.1);
const position = Float32Array.from({ length: (1 + PATCHES) * C }, (_, i) => Math.sin(i) * 0.2);

// torch 1.13: cat([class, Conv2d(3, 5, 14, 14, bias=False)(image).flatten(2).transpose(1, 2)]) + pos.
const TORCH_OUTPUT = [
  0.5, 0.568294168, 0.481859505, 0.228224009, -0.0513604954, -0.0585769117, -0.354174703, 0.161538959, 0.479657412, -0.102028362, -0.290767759, -0.381223023,
  0.173891038, 0.111265302, -0.097996667, -0.167192519, 0.0773349106, 0.0310886055, -0.407432944, -0.0525258556, -0.103764474, 0.340038061, 0.190005809,
  -0.446970761, -0.220803708, -0.0697039738, 0.452440321, 0.0702623576, -0.179478511, 0.116241559, 0.0497722328, 0.0168737173, -0.190584898, 0.267062813,
  0.36995253,
];

describe('patch embedding kernel', () => {
  it('matches PyTorch with f32 weights', async () => {
    const ctx = await testContext();
    expectClose(patchEmbedReference(image, conv, classEmbedding, position, H, W, P, C), TORCH_OUTPUT, 1e-6, 1e-5, 'reference vs torch');
    const out = ctx.createBuffer('patch out', (1 + PATCHES) * C * 4);
    const weights = { conv: ctx.upload('conv', conv), classEmbedding: ctx.upload('class', classEmbedding), positionEmbedding: ctx.upload('pos', position), dtype: 'f32' as const };
    ctx.run([patchEmbedKernel(ctx, ctx.upload('image', image), weights, out, { height: H, width: W, patch: P, channels: C })]);
    expectClose(new Float32Array(await ctx.read(out)), TORCH_OUTPUT, 1e-6, 1e-5, 'patch embedding');
  });

  it('reads f16 weights with more than 256 channels', async () => {
    const ctx = await testContext();
    const channels = 300; // two channel blocks of 256
    const convHalves = Uint16Array.from({ length: channels * 3 * P * P }, (_, i) => floatToHalf(Math.cos(i * 0.07) * 0.05));
    const classHalves = Uint16Array.from({ length: channels }, (_, i) => floatToHalf(Math.sin(i * 0.3)));
    const posHalves = Uint16Array.from({ length: (1 + PATCHES) * channels }, (_, i) => floatToHalf(Math.cos(i * 0.9)));
    const weights = { conv: ctx.upload('conv f16', convHalves), classEmbedding: ctx.upload('class f16', classHalves), positionEmbedding: ctx.upload('pos f16', posHalves), dtype: 'f16' as const };
    const out = ctx.createBuffer('patch out f16', (1 + PATCHES) * channels * 4);
    ctx.run([patchEmbedKernel(ctx, ctx.upload('image', image), weights, out, { height: H, width: W, patch: P, channels })]);
    const expected = patchEmbedReference(image, Array.from(convHalves, halfToFloat), Array.from(classHalves, halfToFloat), Array.from(posHalves, halfToFloat), H, W, P, channels);
    expectClose(new Float32Array(await ctx.read(out)), expected, 1e-5, 1e-5, 'f16 patch embedding');
  });

  it('rejects an image that is not whole patches', async () => {
    const ctx = await testContext();
    const buffer = ctx.createBuffer('any', 1 << 16);
    const weights = { conv: buffer, classEmbedding: buffer, positionEmbedding: buffer, dtype: 'f32' as const };
    expect(() => patchEmbedKernel(ctx, buffer, weights, buffer, { height: 30, width: 42, patch: 14, channels: 2 })).toThrow(ShapeError);
  });
});
