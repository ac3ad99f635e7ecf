// copy: dst[i] = src[i] for i < n, as u32 words, four words a thread.
//
// Bindings: src, dst: array<vec4<u32>>, n4 = ceil(words / 4) vec4 elements (buffers padded to 16 bytes).
// Dispatch: 256 threads a workgroup, one vec4 a thread; the grid folds into y past 65535 groups.
// Used as the bandwidth yardstick of the kernel benchmark, not by the model.

struct Params {
  n4: u32,
  groupsX: u32,
}

@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * params.groupsX * 256u + gid.x;
  if (i < params.n4) {
    dst[i] = src[i];
  }
}
