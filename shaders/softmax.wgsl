// softmax: x[r, c] = e^(x[r, c] - max_r) / Σ_c e^(x[r, c] - max_r), in place, f32 [rows, cols].
//
// Subtracting the row max keeps e^x finite for any finite row. A row of -inf values becomes NaN,
// as in PyTorch.
// Bindings: x (read_write), params (uniform).
// Dispatch: one workgroup of WG threads a row; threads stride over the columns, and the max and
// sum are reduced in workgroup memory in a fixed order.

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

// Threads a workgroup, a power of two: 256 on GPUs, a few on CPU drivers (see the wrapper).
override WG: u32 = 256u;
var<workgroup> partial: array<f32, WG>;

fn workgroupSum(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      partial[lid] += partial[lid + stride];
    }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

fn workgroupMax(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      partial[lid] = max(partial[lid], partial[lid + stride]);
    }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let base = wid.x * params.cols;
  var localMax = -3.4028234e38;
  for (var c = lid; c < params.cols; c += WG) {
    localMax = max(localMax, x[base + c]);
  }
  let rowMax = workgroupMax(lid, localMax);

  var localSum = 0.0;
  for (var c = lid; c < params.cols; c += WG) {
    let e = exp(x[base + c] - rowMax);
    x[base + c] = e;
    localSum += e;
  }
  let inv = 1.0 / workgroupSum(lid, localSum);

  for (var c = lid; c < params.cols; c += WG) {
    x[base + c] *= inv;
  }
}
