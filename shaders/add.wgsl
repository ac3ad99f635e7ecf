// add: a[i] += b[i mod period] for i < n, f32, in place.
//
// period = n is the residual add of a block (h = x + f(x)); period = cols adds a bias f32 [cols]
// to every row of a [rows, cols] (the CLIP and projector linears when the matmul does not).
// Bindings: a (read_write) [n], b (read) [period], params (uniform).
// Dispatch: 256 threads a workgroup, one element a thread; the grid folds into y past 65535 groups.

struct Params {
  n: u32,
  period: u32,
  groupsX: u32,
}

@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * params.groupsX * 256u + gid.x;
  if (i >= params.n) {
    return;
  }
  a[i] += b[i % params.period];
}
