// model_elementwise: the element-wise steps of the forward pass, one element a thread.
//
//   OP 0, residual add:  a[i] += b[i]                                   i < n
//   OP 1, exact GELU:    a[i] = 0.5 · a[i] · (1 + erf(a[i] / √2))        (the projector)
//   OP 2, quick_gelu:    a[i] = a[i] · sigmoid(1.702 · a[i])             (CLIP's MLP)
//   OP 3, SwiGLU:        a[t, i] = silu(b[t, hidden + i]) · b[t, i]      i < hidden, n = tokens · hidden
//                        (b is ff_proj's output [tokens, 2 · hidden]: halves [x, gate])
//
// erf follows Abramowitz and Stegun 7.1.26 (absolute error under 1.5e-7), since WGSL has none.
//
// Bindings: a (read_write) f32 [n]; b (read) f32 (unused by OPs 1 and 2, any buffer); params.
// Dispatch: 256 threads a workgroup, the grid folded into y past 65535 groups.

override OP: u32 = 0u;

struct Params {
  n: u32,
  hidden: u32,
  groupsX: u32,
}

@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

fn erf(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-ax * ax));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * params.groupsX * 256u + gid.x;
  if (i >= params.n) {
    return;
  }
  if (OP == 0u) {
    a[i] += b[i];
  } else if (OP == 1u) {
    let x = a[i];
    a[i] = 0.5 * x * (1.0 + erf(x * 0.70710678118654752));
  } else if (OP == 2u) {
    let x = a[i];
    a[i] = x / (1.0 + exp(-1.702 * x));
  } else {
    let t = i / params.hidden;
    let c = i % params.hidden;
    let x = b[t * 2u * params.hidden + c];
    let gate = b[t * 2u * params.hidden + params.hidden + c];
    a[i] = gate / (1.0 + exp(-gate)) * x;
  }
}
