// dense_matmul_tiled: Y = X · Wᵀ (+ bias) for many tokens, staging tiles in workgroup memory.
// Same contract as dense_matmul.wgsl; a variant for GPUs, where reading each input and weight
// element once per workgroup from workgroup memory beats reading it once per thread from cache.
//
//   y[m, p0 + n] = Σ_c x[m, c] · W[n, c] + bias[p0 + n]      f32 accumulation
//
// Bindings:
//   x:      array<vec4<f32>>, [tokens, in / 4]
//   weight: array<WEIGHT>,    [rows, in / 4]       one part of W, rows p0 .. p0 + rows − 1 (see
//                                                  dense_matvec.wgsl for WEIGHT and LOAD)
//   bias:   array<f32>,       [outStride]          read only when HAS_BIAS
//   y:      array<f32>,       [tokens, outStride]  this part writes columns p0 .. p0 + rows − 1
//   params: uniform Params
// Dispatch: 16×16 threads a workgroup computing a 64-token × 64-row tile, x of the grid over
// rows, y over tokens. Each step over 16 input columns, every thread loads one vec4 of X and one
// of W into workgroup memory (zeros past the edges), a barrier, then each thread accumulates
// 4 tokens × 4 rows from workgroup memory, and a second barrier. Thread (tx, ty) owns rows
// tx + 16j and tokens ty + 16i, so neighbouring threads read neighbouring vec4s of a tile.
//
// Defines (filled by app/engine/kernels/dense.ts): ENABLE, WEIGHT, LOAD and HAS_BIAS.
{{ENABLE}}

struct Params {
  tokens: u32,
  rows: u32,       // rows in this part
  in4: u32,        // in / 4
  rowOffset: u32,  // p0
  outStride: u32,  // out, the length of a row of y
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> weight: array<{{WEIGHT}}>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const HAS_BIAS: bool = {{HAS_BIAS}};
const TILE: u32 = 64u;  // tokens and rows of a tile
const STEP4: u32 = 4u;  // vec4s of input columns a step (16 columns)

// Tiles stored column-step-major: [k4 in 0..STEP4][token or row in 0..TILE].
var<workgroup> xTile: array<vec4<f32>, STEP4 * TILE>;
var<workgroup> wTile: array<vec4<f32>, STEP4 * TILE>;

fn load(i: u32) -> vec4<f32> {
  let e = weight[i];
  return {{LOAD}};
}

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) index: u32,
) {
  let n0 = wid.x * TILE;
  let m0 = wid.y * TILE;
  let in4 = params.in4;

  // The element this thread stages each step: tile row `slot`, vec4 `part` of the step.
  let slot = index / STEP4;
  let part = index % STEP4;
  let token = m0 + slot;
  let row = n0 + slot;

  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < in4; k0 += STEP4) {
    let k = k0 + part;
    var xv = vec4<f32>(0.0);
    if (token < params.tokens && k < in4) {
      xv = x[token * in4 + k];
    }
    var wv = vec4<f32>(0.0);
    if (row < params.rows && k < in4) {
      wv = load(row * in4 + k);
    }
    xTile[part * TILE + slot] = xv;
    wTile[part * TILE + slot] = wv;
    workgroupBarrier();

    for (var kk = 0u; kk < STEP4; kk++) {
      var a: array<vec4<f32>, 4>;
      for (var i = 0u; i < 4u; i++) {
        a[i] = xTile[kk * TILE + lid.y + 16u * i];
      }
      for (var j = 0u; j < 4u; j++) {
        let b = wTile[kk * TILE + lid.x + 16u * j];
        for (var i = 0u; i < 4u; i++) {
          acc[i][j] += dot(a[i], b);
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x + 16u * j;
      if (m < params.tokens && n < params.rows) {
        let column = params.rowOffset + n;
        var out = acc[i][j];
        if (HAS_BIAS) {
          out += bias[column];
        }
        y[m * params.outStride + column] = out;
      }
    }
  }
}
