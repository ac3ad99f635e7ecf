// dense_matmul: Y = X · Wᵀ (+ bias) for many tokens, for nn.Linear weights [out, in] (CLIP, the
// projector, the output head over a prompt).
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
// Dispatch: 8×8 threads a workgroup; each thread computes a TM (tokens) × TN (rows) block, so a
// workgroup covers 8·TM tokens × 8·TN rows: x of the grid walks rows, y walks tokens. Each step
// over k loads TM input vec4s and TN weight elements and does TM·TN vec4 dot products: the
// registers are the tile and neighbouring threads share loads through the cache, with no
// workgroup memory and no barrier. Blocks past the end compute on clamped indices, unwritten.
//
// Defines (filled by app/engine/kernels/dense.ts): ENABLE, WEIGHT, LOAD, HAS_BIAS, TM and TN.
// dense_matmul_tiled.wgsl is the workgroup-memory variant for GPUs.
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

const TM: u32 = {{TM}}u;
const TN: u32 = {{TN}}u;
const HAS_BIAS: bool = {{HAS_BIAS}};

fn load(i: u32) -> vec4<f32> {
  let e = weight[i];
  return {{LOAD}};
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * TN;
  let m0 = gid.y * TM;
  if (n0 >= params.rows || m0 >= params.tokens) {
    return;
  }
  let in4 = params.in4;

  var tokenBase: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    tokenBase[i] = min(m0 + i, params.tokens - 1u) * in4;
  }
  var rowBase: array<u32, TN>;
  for (var j = 0u; j < TN; j++) {
    rowBase[j] = min(n0 + j, params.rows - 1u) * in4;
  }

  var acc: array<array<f32, TN>, TM>;
  for (var k = 0u; k < in4; k++) {
    var xv: array<vec4<f32>, TM>;
    for (var i = 0u; i < TM; i++) {
      xv[i] = x[tokenBase[i] + k];
    }
    for (var j = 0u; j < TN; j++) {
      let w = load(rowBase[j] + k);
      for (var i = 0u; i < TM; i++) {
        acc[i][j] += dot(w, xv[i]);
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    let m = m0 + i;
    if (m >= params.tokens) {
      break;
    }
    for (var j = 0u; j < TN; j++) {
      let n = n0 + j;
      if (n >= params.rows) {
        break;
      }
      let column = params.rowOffset + n;
      var out = acc[i][j];
      if (HAS_BIAS) {
        out += bias[column];
      }
      y[m * params.outStride + column] = out;
    }
  }
}
