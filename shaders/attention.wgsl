// attention: softmax(q·kᵀ · scale) · v for one query row and one head per workgroup, with
// strided operands so one kernel serves the OLMo prefill and decode steps (q from the fused
// att_proj output, k and v from the KV cache) and CLIP's full attention (q, k and v from
// [T, 3·d] rows or three separate [T, d] buffers).
//
// Element (row r, head h, dim j) of an operand X is X[xOffset + h·xHeadStride + r·xRowStride + j].
//   q:   rows are the T query tokens.
//   k, v: rows are key positions 0 .. keys-1.
//   out: f32 [T, outStride], head h at columns h·D .. h·D+D-1.
// Keys: with USE_STEP, keys = step.kvLength and query t sits at position step.position + t;
// otherwise keys = params.keys and positions start at 0. With CAUSAL, query t attends to
// positions ≤ its own: min(keys, position + t + 1) keys. A query with no keys writes zeros.
//
// Per workgroup, three passes over the keys: scores into workgroup memory (so at most
// MAX_KEYS keys, a pipeline constant), their max, then e^(s - max) and its sum, then Σ e·v:
// with WG ≥ D each thread takes one dim over a 1/G share of the keys (G = WG / D threads a
// dim), combined in a fixed order; with WG < D each thread takes dims lid, lid + WG, … over
// all keys. Sums are reduced in workgroup memory in a fixed order, so
// results do not change between runs.
//
// Bindings: q, k, v (read; may be one buffer), out (write), params (uniform), step (uniform).
// Dispatch: (T, H) workgroups of WG threads. D ≤ 256.

override CAUSAL: bool = true;
override USE_STEP: bool = true;

struct Params {
  tokens: u32,
  heads: u32,
  headDim: u32,
  keys: u32,
  qOffset: u32,
  qRowStride: u32,
  qHeadStride: u32,
  kOffset: u32,
  kRowStride: u32,
  kHeadStride: u32,
  vOffset: u32,
  vRowStride: u32,
  vHeadStride: u32,
  outStride: u32,
  scale: f32,
}

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

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
@group(0) @binding(5) var<uniform> step: StepParams;

// Threads a workgroup, a power of two: 256 on GPUs, a few on CPU drivers (see the wrapper).
override WG: u32 = 256u;
const MAX_KEYS: u32 = {{MAX_KEYS}}u;
const MAX_HEAD_DIM: u32 = 256u;

var<workgroup> scores: array<f32, MAX_KEYS>;
var<workgroup> query: array<f32, MAX_HEAD_DIM>;
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
  let t = wid.x;
  let h = wid.y;
  let D = params.headDim;

  var keys = params.keys;
  var position = t;
  if (USE_STEP) {
    keys = step.kvLength;
    position = step.position + t;
  }
  if (CAUSAL) {
    keys = min(keys, position + 1u);
  }
  keys = min(keys, MAX_KEYS);

  for (var j = lid; j < D; j += WG) {
    query[j] = q[params.qOffset + h * params.qHeadStride + t * params.qRowStride + j] * params.scale;
  }
  workgroupBarrier();

  var localMax = -3.0e38;
  let kBase = params.kOffset + h * params.kHeadStride;
  for (var p = lid; p < keys; p += WG) {
    let row = kBase + p * params.kRowStride;
    var s = 0.0;
    for (var j = 0u; j < D; j++) {
      s += query[j] * k[row + j];
    }
    scores[p] = s;
    localMax = max(localMax, s);
  }
  let rowMax = workgroupMax(lid, localMax);

  var localSum = 0.0;
  for (var p = lid; p < keys; p += WG) {
    let e = exp(scores[p] - rowMax);
    scores[p] = e;
    localSum += e;
  }
  let total = workgroupSum(lid, localSum);

  let outBase = t * params.outStride + h * D;
  let vBase = params.vOffset + h * params.vHeadStride;
  if (WG < D) {
    for (var j = lid; j < D; j += WG) {
      var acc = 0.0;
      for (var p = 0u; p < keys; p++) {
        acc += scores[p] * v[vBase + p * params.vRowStride + j];
      }
      out[outBase + j] = select(0.0, acc / total, keys > 0u);
    }
    return;
  }

  // Thread lid accumulates dim j over keys g, g + G, g + 2G, ...
  let groups = WG / D;
  let j = lid % D;
  let g = lid / D;
  var acc = 0.0;
  if (g < groups) {
    for (var p = g; p < keys; p += groups) {
      acc += scores[p] * v[vBase + p * params.vRowStride + j];
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  if (lid < D) {
    var sum = 0.0;
    for (var i = 0u; i < groups; i++) {
      sum += partial[i * D + lid];
    }
    out[outBase + lid] = select(0.0, sum / total, keys > 0u);
  }
}
