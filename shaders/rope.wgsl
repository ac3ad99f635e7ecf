// rope: rotary position embedding of q and k, in place in the fused att_proj output, with an
// optional clamp of q, k and v (OLMo's clip_qkv).
//
// qkv: f32 [T, 3·d], each row q | k | v, each of those H heads × D dims (d = H·D).
// Token t is at position p = step.position + t. For i < D/2, with (c, s) = table[p, i]:
//   x'[i]       = x[i] · c - x[i + D/2] · s
//   x'[i + D/2] = x[i + D/2] · c + x[i] · s
// which is x·cos + rotate_half(x)·sin with rotate_half(x) = [-x2, x1] over the full head dim.
// table: vec2<f32> [maxPositions, D/2] of (cos, sin) of p · θ^(-2i/D), built on the CPU in
// double precision (GPU sin and cos lose accuracy on angles in the thousands).
// When CLIP is set, q, k and v are clamped to ±params.clip first, as OLMo clamps right after
// att_proj and before the rotation.
//
// Bindings: qkv (read_write), table (read), params (uniform), step (uniform StepParams).
// Dispatch: 256 threads a workgroup, one (token, head, i) a thread: T·H·D/2 threads; the grid
// folds into y past 65535 groups. Positions at or past maxPositions are left untouched (the
// wrapper's caller keeps the sequence inside the table).

override CLIP: bool = false;

struct Params {
  tokens: u32,
  heads: u32,
  headDim: u32,
  maxPositions: u32,
  clip: f32,
  groupsX: u32,
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

@group(0) @binding(0) var<storage, read_write> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> table: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<uniform> step: StepParams;

fn clamped(v: f32) -> f32 {
  if (CLIP) {
    return clamp(v, -params.clip, params.clip);
  }
  return v;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half = params.headDim / 2u;
  let index = gid.y * params.groupsX * 256u + gid.x;
  if (index >= params.tokens * params.heads * half) {
    return;
  }
  let i = index % half;
  let h = (index / half) % params.heads;
  let t = index / (half * params.heads);
  let position = step.position + t;
  if (position >= params.maxPositions) {
    return;
  }
  let d = params.heads * params.headDim;
  let cs = table[position * half + i];

  for (var section = 0u; section < 2u; section++) {
    let lo = t * 3u * d + section * d + h * params.headDim + i;
    let x1 = clamped(qkv[lo]);
    let x2 = clamped(qkv[lo + half]);
    qkv[lo] = x1 * cs.x - x2 * cs.y;
    qkv[lo + half] = x2 * cs.x + x1 * cs.y;
  }
  if (CLIP) {
    let lo = t * 3u * d + 2u * d + h * params.headDim + i;
    qkv[lo] = clamped(qkv[lo]);
    qkv[lo + half] = clamped(qkv[lo + half]);
  }
}
