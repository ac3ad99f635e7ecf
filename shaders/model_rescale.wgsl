// model_rescale: BitLinear158's rescale of an integer product computed by a dense kernel (the
// `--dense` benchmark mode): y = acc / (sx · sw), or y += acc / (sx · sw) to fuse the residual add.
//
//   y[t, o] (+)= acc[t, o] / (sx[t] · sw)
//
// Bindings: acc (read) f32 [tokens, cols]; scales (read) f32 [tokens]: sx; y (read_write) f32
// [tokens, cols]; params. Dispatch: 256 threads a workgroup, one element a thread, the grid folded
// into y past 65535 groups.

override ACCUMULATE: bool = false;

struct Params {
  n: u32,
  cols: u32,
  sw: f32,
  groupsX: u32,
}

@group(0) @binding(0) var<storage, read> acc: array<f32>;
@group(0) @binding(1) var<storage, read> scales: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * params.groupsX * 256u + gid.x;
  if (i >= params.n) {
    return;
  }
  let value = acc[i] / (scales[i / params.cols] * params.sw);
  if (ACCUMULATE) {
    y[i] += value;
  } else {
    y[i] = value;
  }
}
