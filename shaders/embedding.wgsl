// embedding: out[t, c] = table[ids[idsOffset + t], c] for one part of a row-split f16 table.
//
// The table f16 [rows, cols] (206 MB for OLMo's [50304, 2048]) can exceed
// maxStorageBufferBindingSize, so it is split by rows into parts that fit one binding each,
// and one dispatch runs a part: it writes the tokens whose id falls in
// [firstRow, firstRow + partRows) and leaves the others to the other parts. The last part also
// writes zeros for ids at or past the table's rows, so an invalid id never leaves stale values.
// part: f16 [partRows, cols] as raw halves, two a u32, little-endian (element e is the low half
// of word e/2 when e is even); no shader-f16 needed. cols may be odd.
// ids: u32 [≥ idsOffset + T]; out: f32 [T, cols].
// Bindings: ids (read), part (read), out (write), params (uniform).
// Dispatch: 256 threads a workgroup, one output element a thread; the grid folds into y past
// 65535 groups.

struct Params {
  tokens: u32,
  cols: u32,
  idsOffset: u32,
  firstRow: u32,
  partRows: u32,
  isLast: u32,
  groupsX: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(1) var<storage, read> part: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let index = gid.y * params.groupsX * 256u + gid.x;
  if (index >= params.tokens * params.cols) {
    return;
  }
  let t = index / params.cols;
  let c = index - t * params.cols;
  let id = ids[params.idsOffset + t];
  if (id < params.firstRow) {
    return;
  }
  let row = id - params.firstRow;
  if (row >= params.partRows) {
    if (params.isLast != 0u) {
      out[index] = 0.0;
    }
    return;
  }
  let e = row * params.cols + c;
  let word = part[e >> 1u];
  let bits = select(word & 0xffffu, word >> 16u, (e & 1u) == 1u);
  out[index] = unpack2x16float(bits).x;
}
