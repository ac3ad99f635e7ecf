// model_rope_kv: splits the fused q, k, v projection of T tokens, clamps it (clip_qkv), rotates q
// and k with RoPE and writes k and v into the layer's KV cache at the tokens' positions.
//
//   u = clamp(qkv[t], −clip, clip) when CLIP, else qkv[t]      [3 · width]: q, k, v in that order
//   pos = step.position + t
//   for each head h and i < half (half = headDim / 2), with c = cosT[pos, i], s = sinT[pos, i]:
//     rot(a, b) = (a·c − b·s, b·c + a·s)      rotate-half: element i pairs with element i + half
//     q[t, h, i], q[t, h, i + half]            = rot(q_u[h, i], q_u[h, i + half])
//     kCache[pos, h, i], kCache[pos, h, i + half] = rot(k_u[h, i], k_u[h, i + half])
//     vCache[pos, h, i], vCache[pos, h, i + half] = v_u[h, i], v_u[h, i + half]
//
// KV cache layout: one f32 buffer for keys and one for values per layer, [positions, width] with
// width = heads · headDim, row p holding every head of position p (head h at columns h·headDim..).
// The cos/sin table is built on the CPU in double precision ([positions, half] each), since GPU
// sin and cos lose accuracy on angles in the thousands.
//
// Bindings: qkv (read) [tokens, 3·width]; q (write) [tokens, width]; kCache, vCache (write)
// [positions, width]; cosT, sinT (read) [positions, half]; step: uniform StepParams (position);
// params: uniform Params. All f32.
// Dispatch: 64 threads a workgroup, one rotation pair a thread: x covers width / 2, y the tokens.

override CLIP: bool = false;

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
  tokens: u32,
  width: u32,
  headDim: u32,
  clip: f32,
}

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read_write> q: array<f32>;
@group(0) @binding(2) var<storage, read_write> kCache: array<f32>;
@group(0) @binding(3) var<storage, read_write> vCache: array<f32>;
@group(0) @binding(4) var<storage, read> cosT: array<f32>;
@group(0) @binding(5) var<storage, read> sinT: array<f32>;
@group(0) @binding(6) var<uniform> step: StepParams;
@group(0) @binding(7) var<uniform> params: Params;

fn clipped(v: f32) -> f32 {
  if (CLIP) {
    return clamp(v, -params.clip, params.clip);
  }
  return v;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let t = gid.y;
  let width = params.width;
  let half = params.headDim / 2u;
  if (j >= width / 2u || t >= params.tokens) {
    return;
  }
  let h = j / half;
  let i = j % half;
  let pos = step.position + t;
  let c = cosT[pos * half + i];
  let s = sinT[pos * half + i];
  let col = h * params.headDim + i;
  let src = t * 3u * width + col;

  let qa = clipped(qkv[src]);
  let qb = clipped(qkv[src + half]);
  q[t * width + col] = qa * c - qb * s;
  q[t * width + col + half] = qb * c + qa * s;

  let ka = clipped(qkv[src + width]);
  let kb = clipped(qkv[src + width + half]);
  let dst = pos * width + col;
  kCache[dst] = ka * c - kb * s;
  kCache[dst + half] = kb * c + ka * s;

  vCache[dst] = clipped(qkv[src + 2u * width]);
  vCache[dst + half] = clipped(qkv[src + 2u * width + half]);
}
