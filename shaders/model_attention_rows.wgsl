// model_attention_rows: softmax attention with one thread a (query, head), for prefill and the
// vision tower, where queries are many. The same result as model_attention.wgsl, computed with a
// running (online) softmax so that no scores are stored and no barrier is needed:
//
//   visible(t) = step.position + t + 1 when CAUSAL, step.kvLength otherwise
//   for j < visible(t):  s = scale · q[t, h, :] · k[j, h, :]
//                        m' = max(m, s); c = exp(m − m'); p = exp(s − m')
//                        l = l·c + p;    acc = acc·c + p·v[j, h, :];  m = m'
//   out[t, h, :] = acc / l
//
// Bindings: q (read) [queries, width]; k, v (read) [keys, width]; out (write) [queries, width];
// step: uniform StepParams; params: uniform Params. All f32, width = heads · HD.
// Dispatch: 64 threads a workgroup, thread i takes query i / heads and head i % heads, so the
// threads of a workgroup read the same key rows; the grid folds into y past 65535 groups.
//
// Defines: HD, the head dimension (sizes the per-thread accumulator).

override CAUSAL: bool = true;

struct StepParams {
  position: u32,
  kvLength: u32,
  sampleIndex: u32,
  seed: u32,
  temperature: f32,
  topP: f32,
  _pad0: u32,
  _pad1: u32,
}

struct Params {
  queries: u32,
  heads: u32,
  scale: f32,
  groupsX: u32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> step: StepParams;
@group(0) @binding(5) var<uniform> params: Params;

const HD = {{HD}}u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let index = gid.y * params.groupsX * 64u + gid.x;
  if (index >= params.queries * params.heads) {
    return;
  }
  let t = index / params.heads;
  let h = index % params.heads;
  let width = params.heads * HD;
  let base = h * HD;
  var visible = step.kvLength;
  if (CAUSAL) {
    visible = step.position + t + 1u;
  }

  var qv: array<f32, HD>;
  var acc: array<f32, HD>;
  for (var i = 0u; i < HD; i++) {
    qv[i] = q[t * width + base + i] * params.scale;
    acc[i] = 0.0;
  }
  var m = -3.0e38;
  var l = 0.0;
  for (var j = 0u; j < visible; j++) {
    let row = j * width + base;
    var s = 0.0;
    for (var i = 0u; i < HD; i++) {
      s += qv[i] * k[row + i];
    }
    let next = max(m, s);
    let c = exp(m - next);
    let p = exp(s - next);
    l = l * c + p;
    for (var i = 0u; i < HD; i++) {
      acc[i] = acc[i] * c + p * v[row + i];
    }
    m = next;
  }
  for (var i = 0u; i < HD; i++) {
    out[t * width + base + i] = acc[i] / l;
  }
}
