// dense_matvec: y = x · Wᵀ (+ bias) for one token, for nn.Linear weights [out, in] (CLIP, the
// projector, the tied output head).
//
//   y[p0 + r] = Σ_c x[c] · W[r, c] + bias[p0 + r]      f32 accumulation
//
// Bindings:
//   x:      array<vec4<f32>>, [in / 4]              one token's input, f32
//   weight: array<WEIGHT>,    [rows, in / 4]        one part of W: rows p0 .. p0 + rows − 1, four
//                                                   columns an element. WEIGHT is vec2<u32> (f16
//                                                   halves read with unpack2x16float, no
//                                                   shader-f16 needed), vec4<f16> (shader-f16) or
//                                                   vec4<f32>
//   bias:   array<f32>,       [outStride]           read only when HAS_BIAS (else any buffer)
//   y:      array<f32>,       [outStride]           the whole output row; this part writes
//                                                   columns p0 .. p0 + rows − 1
//   params: uniform Params
// Dispatch: WG threads a workgroup, ROWS rows a workgroup, ceil(rows / ROWS) workgroups folded into
// y past 65535. Weights larger than one storage binding are split by rows into parts, one
// dispatch a part, all writing the same y. Thread t takes elements t, t + WG, ... of each row, so
// neighbouring threads read neighbouring 8- or 16-byte elements. One barrier combines the
// threads' partial sums (subgroup sums first when REDUCTION is subgroup).
//
// Defines (filled by app/engine/kernels/dense.ts): ENABLE, SUBGROUP_BUILTINS and REDUCE pick the
// reduction; WG, ROWS, WEIGHT, LOAD (an expression of `e`, the weight element, giving vec4<f32>)
// and HAS_BIAS.
{{ENABLE}}

struct Params {
  rows: u32,       // rows in this part
  in4: u32,        // in / 4
  rowOffset: u32,  // p0, the first output column this part writes
  groupsX: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> weight: array<{{WEIGHT}}>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const WG: u32 = {{WG}}u;
const ROWS: u32 = {{ROWS}}u;
const HAS_BIAS: bool = {{HAS_BIAS}};

var<workgroup> parts: array<f32, ROWS * WG>;

fn load(i: u32) -> vec4<f32> {
  let e = weight[i];
  return {{LOAD}};
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  {{SUBGROUP_BUILTINS}}
) {
  let group = wid.y * params.groupsX + wid.x;
  let row0 = group * ROWS;
  if (row0 >= params.rows) {
    return;
  }
  let in4 = params.in4;

  var acc: array<f32, ROWS>;
  for (var k = lid; k < in4; k += WG) {
    let xv = x[k];
    for (var r = 0u; r < ROWS; r++) {
      // Rows past the end read the last row again and are never written.
      let row = min(row0 + r, params.rows - 1u);
      acc[r] += dot(load(row * in4 + k), xv);
    }
  }

  // REDUCE sets `stride`, the distance between the slots that hold distinct partials.
  var stride = 1u;
  for (var r = 0u; r < ROWS; r++) {
    var part = acc[r];
    {{REDUCE}}
    parts[r * WG + lid] = part;
  }
  workgroupBarrier();

  // Thread t writes rows t, t + WG, ... of the block (ROWS may exceed WG).
  for (var r = lid; r < ROWS && row0 + r < params.rows; r += WG) {
    var total = 0.0;
    for (var k = 0u; k < WG; k += stride) {
      total += parts[r * WG + k];
    }
    let column = params.rowOffset + row0 + r;
    if (HAS_BIAS) {
      total += bias[column];
    }
    y[column] = total;
  }
}
