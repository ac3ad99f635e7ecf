// kv_write: copies the k and v of T new tokens from the fused att_proj output (after RoPE) into
// one layer's KV cache at positions step.position + t.
//
// qkv:   f32 [T, 3·d], rows q | k | v, each H heads × D dims (d = H·D).
// cache: f32, K then V, each [H, maxPositions, D] (head-major, so one head's keys are one
//        contiguous block that attention walks position by position):
//          K[h, p, j] = cache[(h·maxPositions + p)·D + j]
//          V[h, p, j] = cache[H·maxPositions·D + (h·maxPositions + p)·D + j]
// Bindings: qkv (read), cache (read_write), params (uniform), step (uniform StepParams).
// Dispatch: 256 threads a workgroup, one (token, channel) a thread: T·d threads; the grid folds
// into y past 65535 groups. Positions at or past maxPositions are skipped.

struct Params {
  tokens: u32,
  heads: u32,
  headDim: u32,
  maxPositions: u32,
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

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read_write> cache: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<uniform> step: StepParams;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d = params.heads * params.headDim;
  let index = gid.y * params.groupsX * 256u + gid.x;
  if (index >= params.tokens * d) {
    return;
  }
  let t = index / d;
  let c = index - t * d;
  let h = c / params.headDim;
  let j = c - h * params.headDim;
  let position = step.position + t;
  if (position >= params.maxPositions) {
    return;
  }
  let slot = (h * params.maxPositions + position) * params.headDim + j;
  cache[slot] = qkv[t * 3u * d + d + c];
  cache[params.heads * params.maxPositions * params.headDim + slot] = qkv[t * 3u * d + 2u * d + c];
}
