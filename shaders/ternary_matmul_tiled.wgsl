// ternary_matmul_tiled: Y = (Xq · Wqᵀ) / (sx · sw) for many tokens, staging tiles in workgroup
// memory. Same contract as ternary_matmul.wgsl; a variant for GPUs, where reading each activation
// and weight word once per workgroup from workgroup memory beats reading it once per thread.
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
// Dispatch: 16×16 threads a workgroup computing a 64-token × 64-row tile, x of the grid over
// rows, y over tokens. Each step over 4 weight words (64 input columns), every thread stages one
// activation vec4 (with its sum Σ xq) and one weight word in workgroup memory (zeros past the
// edges, which add nothing), a barrier, then each thread accumulates 4 tokens × 4 rows with
// dot4I8Packed, and a second barrier. Thread (tx, ty) owns rows tx + 16j and tokens ty + 16i.
// Σ weight · xq = Σ code · xq − Σ xq as in ternary_matvec.wgsl.
//
// Defines (filled by app/engine/kernels/ternary.ts): ACCUMULATE.

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

const ACCUMULATE: bool = {{ACCUMULATE}};
const LOW2: u32 = 0x03030303u;
const ONES: u32 = 0x01010101u;
const TILE: u32 = 64u;  // tokens and rows of a tile
const STEP: u32 = 4u;   // weight words a step (64 columns)

// Tiles stored word-major: [word in 0..STEP][token or row in 0..TILE].
var<workgroup> xTile: array<vec4<u32>, STEP * TILE>;
var<workgroup> xSumTile: array<i32, STEP * TILE>;
var<workgroup> wTile: array<u32, STEP * TILE>;

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) index: u32,
) {
  let n0 = wid.x * TILE;
  let m0 = wid.y * TILE;
  let words = params.words;

  // The element this thread stages each step: tile row `slot`, word `part` of the step.
  let slot = index / STEP;
  let part = index % STEP;
  let token = m0 + slot;
  let row = n0 + slot;

  var acc: array<array<i32, 4>, 4>;
  var xSum: array<i32, 4>;
  for (var k0 = 0u; k0 < words; k0 += STEP) {
    let k = k0 + part;
    var xv = vec4<u32>(0u);
    if (token < params.tokens && k < words) {
      xv = q[token * words + k];
    }
    // Code 1 is weight 0, so padding words contribute nothing.
    var w = 0x55555555u;
    if (row < params.outFeatures && k < words) {
      w = weight[row * words + k];
    }
    xTile[part * TILE + slot] = xv;
    xSumTile[part * TILE + slot] = dot4I8Packed(xv.x, ONES) + dot4I8Packed(xv.y, ONES)
                                 + dot4I8Packed(xv.z, ONES) + dot4I8Packed(xv.w, ONES);
    wTile[part * TILE + slot] = w;
    workgroupBarrier();

    for (var kk = 0u; kk < STEP; kk++) {
      var a: array<vec4<u32>, 4>;
      for (var i = 0u; i < 4u; i++) {
        a[i] = xTile[kk * TILE + lid.y + 16u * i];
        xSum[i] += xSumTile[kk * TILE + lid.y + 16u * i];
      }
      for (var j = 0u; j < 4u; j++) {
        let b = wTile[kk * TILE + lid.x + 16u * j];
        let b0 = b & LOW2;
        let b1 = (b >> 2u) & LOW2;
        let b2 = (b >> 4u) & LOW2;
        let b3 = (b >> 6u) & LOW2;
        for (var i = 0u; i < 4u; i++) {
          acc[i][j] += dot4I8Packed(b0, a[i].x) + dot4I8Packed(b1, a[i].y)
                     + dot4I8Packed(b2, a[i].z) + dot4I8Packed(b3, a[i].w);
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y + 16u * i;
    if (m >= params.tokens) {
      continue;
    }
    let scale = scales[m] * params.sw;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x + 16u * j;
      if (n < params.outFeatures) {
        var out = f32(acc[i][j] - xSum[i]) / scale;
        if (ACCUMULATE) {
          out += y[m * params.outFeatures + n];
        }
        y[m * params.outFeatures + n] = out;
      }
    }
  }
}
