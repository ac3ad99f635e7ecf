// swiglu: y[r, j] = silu(u[r, H + j]) · u[r, j], silu(g) = g · sigmoid(g), for the OLMo MLP.
//
// u is ff_proj's output f32 [rows, 2H]: the first half of each row is x, the second the gate
// (OLMo's `x, gate = x.chunk(2, dim=-1)`). y is f32 [rows, H].
// Bindings: u (read), y (write), params (uniform).
// Dispatch: 256 threads a workgroup, one output element a thread; the grid folds into y past
// 65535 groups.

struct Params {
  rows: u32,
  hidden: u32,
  groupsX: u32,
}

@group(0) @binding(0) var<storage, read> u: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * params.groupsX * 256u + gid.x;
  if (i >= params.rows * params.hidden) {
    return;
  }
  let r = i / params.hidden;
  let j = i - r * params.hidden;
  let x = u[r * 2u * params.hidden + j];
  let gate = u[r * 2u * params.hidden + params.hidden + j];
  // gate / (1 + e^-gate): for gate far below zero e^-gate is +inf and the quotient is -0, not NaN.
  y[i] = gate / (1.0 + exp(-gate)) * x;
}
