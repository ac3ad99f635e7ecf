// model_attention_rows: softmax attention with one thread a (query, head), for prefill and the
// vision tower, where queries are many. A running (online) softmax keeps no scores, so the kernel
// needs no workgroup memory and no barrier (barriers are what make the one-workgroup-a-query
// kernel of shaders/attention.wgsl slow on CPU drivers such as SwiftShader):
//
//   visible(t) = step.position + t + 1 when CAUSAL, step.kvLength otherwise
//   for j < visible(t):  s = scale · q[t, h, :] · k[j, h, :]
//                        m' = max(m, s); c = exp(m − m'); p = exp(s − m')
//                        l = l·c + p;    acc = acc·c + p·v[j, h, :];  m = m'
//   out[t, h·HD + i] = acc[i] / l
//
// Operands are strided views (f32 elements): row r, head h, dim i of q is
// q[qOffset + h·qHead + r·qRow + i], and likewise for k and v, so q can be read straight out of
// the fused q | k | v rows and k, v out of the head-major KV cache.
//
// Bindings: q, k, v (read) f32; out (write) f32 [queries, outRow]; step: uniform StepParams;
// params: uniform Params.
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
  qOffset: u32,
  qRow: u32,
  qHead: u32,
  kOffset: u32,
  kRow: u32,
  kHead: u32,
  vOffset: u32,
  vRow: u32,
  vHead: u32,
  outRow: u32,
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
  var visible = step.kvLength;
  if (CAUSAL) {
    visible = step.position + t + 1u;
  }

  var qv: array<f32, HD>;
  var acc: array<f32, HD>;
  let qBase = params.qOffset + h * params.qHead + t * params.qRow;
  for (var i = 0u; i < HD; i++) {
    qv[i] = q[qBase + i] * params.scale;
    acc[i] = 0.0;
  }
  let kBase = params.kOffset + h * params.kHead;
  let vBase = params.vOffset + h * params.vHead;
  var m = -3.0e38;
  var l = 0.0;
  for (var j = 0u; j < visible; j++) {
    let kRow = kBase + j * params.kRow;
    var s = 0.0;
    for (var i = 0u; i < HD; i++) {
      s += qv[i] * k[kRow + i];
    }
    let next = max(m, s);
    let c = exp(m - next);
    let p = exp(s - next);
    l = l * c + p;
    let vRow = vBase + j * params.vRow;
    for (var i = 0u; i < HD; i++) {
      acc[i] = acc[i] * c + p * v[vRow + i];
    }
    m = next;
  }
  let outBase = t * params.outRow + h * HD;
  for (var i = 0u; i < HD; i++) {
    out[outBase + i] = acc[i] / l;
  }
}
