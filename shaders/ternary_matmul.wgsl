// ternary_matmul: Y = (Xq · Wqᵀ) / (sx · sw) for many tokens (prefill), BitLinear158's product.
//
//   acc[m, n] = Σ_c xq[m, c] · Wq[n, c]      exact, in i32
//   y[m, n]   = acc[m, n] / (sx[m] · sw)     (+ y[m, n] when ACCUMULATE, for a fused residual add)
//
// Bindings:
//   q:      array<vec4<u32>>, [tokens, in / 16]  xq as int8, four a u32 (`pack4xI8` order)
//   scales: array<f32>,       [tokens]           sx of each token
//   weight: array<u32>,       [out, in / 16]     layout `ternary2-dot4` (see ternary_matvec.wgsl)
//   y:      array<f32>,       [tokens, out]
//   params: uniform Params
// Dispatch: 8×8 threads a workgroup; each thread computes a TM (tokens) × TN (rows) block of Y, so
// a workgroup covers 8·TM tokens × 8·TN rows: x of the grid walks output rows, y walks tokens.
// Each step over k loads TM activation vec4s and TN weight words and does TM·TN·4 dot4I8Packed:
// the registers are the tile, and neighbouring threads share their loads through the cache.
// No workgroup memory and no barrier, which suits software adapters, where barriers are slow.
// Blocks past the last token or row compute on clamped indices and are not written.
//
// Defines (filled by app/engine/kernels/ternary.ts): TM, TN and ACCUMULATE.
// ternary_matmul_tiled.wgsl is the workgroup-memory variant for GPUs, which loads each weight
// word once per workgroup instead of relying on the cache.

struct Params {
  tokens: u32,
  outFeatures: u32,
  words: u32,  // in / 16
  sw: f32,
}

@group(0) @binding(0) var<storage, read> q: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> scales: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const TM: u32 = {{TM}}u;
const TN: u32 = {{TN}}u;
const ACCUMULATE: bool = {{ACCUMULATE}};
const LOW2: u32 = 0x03030303u;
const ONES: u32 = 0x01010101u;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * TN;
  let m0 = gid.y * TM;
  if (n0 >= params.outFeatures || m0 >= params.tokens) {
    return;
  }
  let words = params.words;

  var tokenBase: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    tokenBase[i] = min(m0 + i, params.tokens - 1u) * words;
  }
  var rowBase: array<u32, TN>;
  for (var j = 0u; j < TN; j++) {
    rowBase[j] = min(n0 + j, params.outFeatures - 1u) * words;
  }

  var acc: array<array<i32, TN>, TM>;
  var xSum: array<i32, TM>;
  for (var k = 0u; k < words; k++) {
    var xv: array<vec4<u32>, TM>;
    for (var i = 0u; i < TM; i++) {
      xv[i] = q[tokenBase[i] + k];
      xSum[i] += dot4I8Packed(xv[i].x, ONES) + dot4I8Packed(xv[i].y, ONES)
               + dot4I8Packed(xv[i].z, ONES) + dot4I8Packed(xv[i].w, ONES);
    }
    for (var j = 0u; j < TN; j++) {
      let w = weight[rowBase[j] + k];
      let w0 = w & LOW2;
      let w1 = (w >> 2u) & LOW2;
      let w2 = (w >> 4u) & LOW2;
      let w3 = (w >> 6u) & LOW2;
      for (var i = 0u; i < TM; i++) {
        acc[i][j] += dot4I8Packed(w0, xv[i].x) + dot4I8Packed(w1, xv[i].y)
                   + dot4I8Packed(w2, xv[i].z) + dot4I8Packed(w3, xv[i].w);
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    let m = m0 + i;
    if (m >= params.tokens) {
      break;
    }
    let scale = scales[m] * params.sw;
    for (var j = 0u; j < TN; j++) {
      let n = n0 + j;
      if (n >= params.outFeatures) {
        break;
      }
      var out = f32(acc[i][j] - xSum[i]) / scale;
      if (ACCUMULATE) {
        out += y[m * params.outFeatures + n];
      }
      y[m * params.outFeatures + n] = out;
    }
  }
}
