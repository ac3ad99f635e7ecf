// bitlinear_quantize: the activation quantization of BitLinear158, one row (token) a workgroup.
//
//   xn = x / sqrt(mean(x²) + 1e-5)                 an RMSNorm with no weight
//   sx = 127 / max(max|xn|, 1e-5)
//   xq = clamp(round(xn · sx), -128, 127)          round half to even (WGSL `round`)
//
// Bindings:
//   x:      array<vec4<f32>>, [rows, cols / 4]   input rows, f32, cols a multiple of 4
//   q:      array<u32>,       [rows, cols / 4]   xq as int8, four a word: column 4i + l in byte l of
//                                                word i (the `pack4xI8` order, which the ternary
//                                                kernels feed to `dot4I8Packed`)
//   scales: array<f32>,       [rows]             sx of each row
//   params: uniform Params
// Dispatch: WG threads a workgroup, one workgroup a row, the grid folded into y past 65535 groups.
// Thread t takes words t, t + WG, ...: pass 1 sums x² and max|x|, one barrier combines the
// threads' partials (reduced first inside each subgroup when REDUCTION is subgroup), and pass 2
// reads the row again (from cache) to write xq. max|xn| is taken as max|x| / rms, which equals the
// max of |x / rms| because division by a positive number rounds monotonically.
//
// Defines (filled by app/engine/kernels/reduce.ts): ENABLE, SUBGROUP_BUILTINS and REDUCE pick the
// subgroup or workgroup-memory reduction; WG is the number of threads a workgroup.
{{ENABLE}}

struct Params {
  cols4: u32,    // cols / 4
  rows: u32,
  groupsX: u32,  // workgroups along x, to unfold the grid
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> q: array<u32>;
@group(0) @binding(2) var<storage, read_write> scales: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const WG: u32 = {{WG}}u;

var<workgroup> partSumSq: array<f32, WG>;
var<workgroup> partMax: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  {{SUBGROUP_BUILTINS}}
) {
  let row = wid.y * params.groupsX + wid.x;
  // Uniform per workgroup, so returning here keeps the barrier below in uniform control flow.
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols4;

  var sumSq = 0.0;
  var maxAbs = 0.0;
  for (var i = lid; i < params.cols4; i += WG) {
    let v = x[base + i];
    sumSq += dot(v, v);
    let a = abs(v);
    maxAbs = max(maxAbs, max(max(a.x, a.y), max(a.z, a.w)));
  }

  // Each thread combines the partials itself after one barrier: a tree would need log2(WG)
  // barriers, and barriers are what software adapters run slowest.
  // REDUCE sets `stride`, the distance between the slots that hold distinct partials.
  var stride = 1u;
  {{REDUCE}}
  partSumSq[lid] = sumSq;
  partMax[lid] = maxAbs;
  workgroupBarrier();
  var total = 0.0;
  var rowMax = 0.0;
  for (var k = 0u; k < WG; k += stride) {
    total += partSumSq[k];
    rowMax = max(rowMax, partMax[k]);
  }

  let rms = sqrt(total / f32(params.cols4 * 4u) + 1e-5);
  let sx = 127.0 / max(rowMax / rms, 1e-5);
  for (var i = lid; i < params.cols4; i += WG) {
    let xn = x[base + i] / rms;
    let xq = clamp(round(xn * sx), vec4<f32>(-128.0), vec4<f32>(127.0));
    q[base + i] = pack4xI8(vec4<i32>(xq));
  }
  if (lid == 0u) {
    scales[row] = sx;
  }
}
