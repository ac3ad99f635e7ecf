// layernorm: normalizes each row of x [rows, cols] f32 into y [rows, cols] f32.
//
//   LayerNorm (RMS = false): y = (x - mean) / sqrt(var + eps) · w + b, var = mean((x - mean)²)
//   RMSNorm   (RMS = true):  y = x / sqrt(mean(x²) + eps) · w + b
//
// w and b are f32 [cols], used when HAS_WEIGHT / HAS_BIAS are set; otherwise the wrapper binds
// a 4-byte placeholder that is never read. OLMo's block norms and ln_f have neither; CLIP's
// norms have both. The variance is taken in a second pass over the row (not E[x²] - E[x]²),
// so rows with a large mean keep their precision.
//
// Bindings: x (read), y (write), w, b (read), params (uniform).
// Dispatch: one workgroup of WG threads a row; each thread strides over the columns, and the row
// sums are reduced in workgroup memory in a fixed order, so results are identical run to run.

override RMS: bool = false;
override HAS_WEIGHT: bool = false;
override HAS_BIAS: bool = false;

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

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

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  let cols = params.cols;
  let base = row * cols;
  let n = f32(cols);

  var mean = 0.0;
  if (!RMS) {
    var sum = 0.0;
    for (var c = lid; c < cols; c += WG) {
      sum += x[base + c];
    }
    mean = workgroupSum(lid, sum) / n;
  }

  var squares = 0.0;
  for (var c = lid; c < cols; c += WG) {
    let d = x[base + c] - mean;
    squares += d * d;
  }
  let inv = 1.0 / sqrt(workgroupSum(lid, squares) / n + params.eps);

  for (var c = lid; c < cols; c += WG) {
    var v = (x[base + c] - mean) * inv;
    if (HAS_WEIGHT) {
      v *= w[c];
    }
    if (HAS_BIAS) {
      v += b[c];
    }
    y[base + c] = v;
  }
}
