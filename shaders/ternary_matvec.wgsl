// ternary_matvec: y = (xq · Wqᵀ) / (sx · sw) for one token (decoding), BitLinear158's product.
//
//   acc[r] = Σ_c xq[c] · Wq[r, c]          exact, in i32 (|acc| ≤ 128 · in < 2^31)
//   y[r]   = acc[r] / (sx · sw)            (+ y[r] when ACCUMULATE, for a fused residual add)
//
// Bindings:
//   q:      array<vec4<u32>>, [in / 16]       xq as int8, four a u32 (`pack4xI8` order): one vec4
//                                             holds the 16 activations of one weight word
//   scales: array<f32>,       [1]             sx
//   weight: array<u32>,       [out, in / 16]  layout `ternary2-dot4` of app/engine/ternary/pack.ts:
//                                             column 16g + 4j + l of a row at bits 8l + 2j of word g
//   y:      array<f32>,       [out]
//   params: uniform Params
// Dispatch: WG threads a workgroup, ROWS output rows a workgroup, ceil(out / ROWS) workgroups
// folded into y past 65535. Thread t takes words t, t + WG, ... of each of the ROWS rows, so
// neighbouring threads read neighbouring words; the activations, 16 bytes a word, stay in cache.
// For word w and j in 0..3, (w >> 2j) & 0x03030303 holds the codes (weight + 1, in 0..2) of four
// columns in the byte order of activation word j, so dot4I8Packed gives Σ code · xq, and
// Σ weight · xq = Σ code · xq − Σ xq, with Σ xq summed once a thread over the words it read.
// One barrier combines the threads' partial sums (subgroup sums first when REDUCTION is subgroup).
//
// Defines (filled by app/engine/kernels/ternary.ts): ENABLE, SUBGROUP_BUILTINS and REDUCE pick the
// reduction, WG and ROWS the shape, ACCUMULATE is true or false.
// NOTE: dot4I8Packed needs the WGSL language feature packed_4x8_integer_dot_product (Chrome 123+,
// Dawn under Node); browsers without it fail to compile this shader.
{{ENABLE}}

struct Params {
  outFeatures: u32,
  words: u32,     // in / 16, words of a weight row
  groupsX: u32,
  sw: f32,
}

@group(0) @binding(0) var<storage, read> q: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> scales: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const WG: u32 = {{WG}}u;
const ROWS: u32 = {{ROWS}}u;
const ACCUMULATE: bool = {{ACCUMULATE}};
const LOW2: u32 = 0x03030303u;
const ONES: u32 = 0x01010101u;

var<workgroup> parts: array<i32, ROWS * WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  {{SUBGROUP_BUILTINS}}
) {
  let group = wid.y * params.groupsX + wid.x;
  let row0 = group * ROWS;
  if (row0 >= params.outFeatures) {
    return;
  }
  let words = params.words;

  var acc: array<i32, ROWS>;
  var xSum = 0;
  for (var k = lid; k < words; k += WG) {
    let xv = q[k];
    xSum += dot4I8Packed(xv.x, ONES) + dot4I8Packed(xv.y, ONES) + dot4I8Packed(xv.z, ONES) + dot4I8Packed(xv.w, ONES);
    for (var r = 0u; r < ROWS; r++) {
      // Rows past the end read the last row again and are never written.
      let row = min(row0 + r, params.outFeatures - 1u);
      let w = weight[row * words + k];
      acc[r] += dot4I8Packed(w & LOW2, xv.x) + dot4I8Packed((w >> 2u) & LOW2, xv.y)
              + dot4I8Packed((w >> 4u) & LOW2, xv.z) + dot4I8Packed((w >> 6u) & LOW2, xv.w);
    }
  }

  // REDUCE sets `stride`, the distance between the slots that hold distinct partials.
  var stride = 1u;
  for (var r = 0u; r < ROWS; r++) {
    var part = acc[r] - xSum;
    {{REDUCE}}
    parts[r * WG + lid] = part;
  }
  workgroupBarrier();

  // Thread t writes rows t, t + WG, ... of the block (ROWS may exceed WG).
  for (var r = lid; r < ROWS && row0 + r < params.outFeatures; r += WG) {
    var total = 0;
    for (var k = 0u; k < WG; k += stride) {
      total += parts[r * WG + k];
    }
    let row = row0 + r;
    var out = f32(total) / (scales[0] * params.sw);
    if (ACCUMULATE) {
      out += y[row];
    }
    y[row] = out;
  }
}
