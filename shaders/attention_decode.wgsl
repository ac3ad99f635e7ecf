// attention_decode: one query token against the KV cache, with the keys split into chunks of
// WG positions so that heads × chunks workgroups share the work (the single-pass attention
// kernel runs one workgroup a head, which leaves most of a large GPU idle while decoding).
//
// Entry point `partial`, workgroup (chunk c, head h): for the keys p in [c·WG, (c+1)·WG) below
// kvLength = step.kvLength, with s_p = q·k_p · scale, writes
//   m_c = max s_p,  l_c = Σ e^(s_p - m_c),  o_c[j] = Σ e^(s_p - m_c) · v_p[j]
// to partials[(h·chunks + c)·(D + 2) ..]: o_c[0 .. D), then m_c, then l_c. A chunk with no
// keys writes m_c = -3e38, l_c = 0 and o_c = 0.
// Entry point `combine`, workgroup h, thread j < D: with M = max_c m_c and w_c = e^(m_c - M),
//   out[h·D + j] = Σ_c w_c · o_c[j] / Σ_c w_c · l_c
// which is the softmax-weighted sum over all keys (the usual split-softmax rescaling).
//
// q: the q part of the fused att_proj row, q[h·D + j] (after RoPE). cache: one layer's K then
// V, each [H, maxPositions, D] (see kv_write.wgsl). partials: f32 [H, chunks, D + 2].
// out: f32 [H·D]. WG ≥ D, and WG a power of two.
// Sums are reduced in workgroup memory and combined in chunk order, so results do not change
// between runs.

override WG: u32 = 128u;

struct Params {
  heads: u32,
  headDim: u32,
  maxPositions: u32,
  chunks: u32,
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
@group(0) @binding(1) var<storage, read> cache: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var<uniform> step: StepParams;

const NO_SCORE: f32 = -3.0e38;
const MAX_HEAD_DIM: u32 = 256u;

var<workgroup> query: array<f32, MAX_HEAD_DIM>;
var<workgroup> weights: array<f32, WG>;
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
fn partial_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let h = wid.y;
  let D = params.headDim;
  let keys = min(step.kvLength, params.maxPositions);
  let first = c * WG;
  let count = select(0u, min(WG, keys - first), keys > first);

  for (var j = lid; j < D; j += WG) {
    query[j] = q[h * D + j] * params.scale;
  }
  workgroupBarrier();

  var score = NO_SCORE;
  if (lid < count) {
    let row = (h * params.maxPositions + first + lid) * D;
    var s = 0.0;
    for (var j = 0u; j < D; j++) {
      s += query[j] * cache[row + j];
    }
    score = s;
  }
  let chunkMax = workgroupMax(lid, score);
  var e = 0.0;
  if (lid < count) {
    e = exp(score - chunkMax);
  }
  weights[lid] = e;
  let chunkSum = workgroupSum(lid, e);

  // Thread lid accumulates dim j over keys g, g + G, … of the chunk (G = WG / D).
  let groups = WG / D;
  let j = lid % D;
  let g = lid / D;
  var acc = 0.0;
  if (g < groups) {
    let vBase = params.heads * params.maxPositions * D + (h * params.maxPositions + first) * D + j;
    for (var p = g; p < count; p += groups) {
      acc += weights[p] * cache[vBase + p * D];
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  let base = (h * params.chunks + c) * (D + 2u);
  if (lid < D) {
    var sum = 0.0;
    for (var i = 0u; i < groups; i++) {
      sum += partial[i * D + lid];
    }
    partials[base + lid] = sum;
  }
  if (lid == 0u) {
    partials[base + D] = select(NO_SCORE, chunkMax, count > 0u);
    partials[base + D + 1u] = chunkSum;
  }
}

@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn combine_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let D = params.headDim;
  if (lid >= D) {
    return;
  }
  var overallMax = NO_SCORE;
  for (var c = 0u; c < params.chunks; c++) {
    overallMax = max(overallMax, partials[(h * params.chunks + c) * (D + 2u) + D]);
  }
  var numerator = 0.0;
  var denominator = 0.0;
  for (var c = 0u; c < params.chunks; c++) {
    let base = (h * params.chunks + c) * (D + 2u);
    let w = exp(partials[base + D] - overallMax);
    numerator += w * partials[base + lid];
    denominator += w * partials[base + D + 1u];
  }
  out[h * D + lid] = select(0.0, numerator / denominator, denominator > 0.0);
}
