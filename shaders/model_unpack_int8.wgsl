// model_unpack_int8: the int8 activation codes of BitLinear158 as floats, for a ternary layer held
// as a dense matrix (`trit bench --dense`). A dense f32-accumulated product of these integers with
// the {-1, 0, +1} weights is exact, because every partial sum is an integer of magnitude at most
// 128 · cols, which f32 holds exactly up to 2^24 (rows up to 131 072 wide). So model_rescale.wgsl
// then gives the same y as the ternary kernels.
//
//   x[t, c] = f32(xq[t, c])
//
// Bindings:
//   q:      array<u32>,       [tokens, cols / 4]   int8 codes, four a word, column 4i + l in byte l
//   x:      array<vec4<f32>>, [tokens, cols / 4]
//   params: uniform Params
// Dispatch: 64 threads a workgroup, one word a thread; x covers cols / 4, y the tokens.

struct Params {
  tokens: u32,
  words: u32,
}

@group(0) @binding(0) var<storage, read> q: array<u32>;
@group(0) @binding(1) var<storage, read_write> x: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = gid.x;
  let t = gid.y;
  if (w >= params.words || t >= params.tokens) {
    return;
  }
  let word = q[t * params.words + w];
  let codes = vec4<i32>(i32(word << 24u) >> 24u, i32(word << 16u) >> 24u, i32(word << 8u) >> 24u, i32(word) >> 24u);
  x[t * params.words + w] = vec4<f32>(codes);
}
