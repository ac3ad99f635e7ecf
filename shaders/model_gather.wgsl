// model_gather: the language model's input rows from the f16 embedding, one chunk of the
// embedding's rows a dispatch (the table is split across buffers when over the binding limit).
//
//   for t < tokens with firstRow ≤ ids[t] < firstRow + rows:   x[t, :] = f32(table[ids[t] − firstRow, :])
//
// Ids outside the chunk are left to the other chunks' dispatches; 0xffffffff marks an image row,
// which the model copies in from the image embeddings instead.
//
// Bindings:
//   ids:    array<u32>,       [tokens]
//   table:  array<u32>,       [rows, width / 2]   raw f16 halves, two a word
//   x:      array<vec2<f32>>, [tokens, width / 2]
//   params: uniform Params
// Dispatch: 64 threads a workgroup, one word of a row a thread; x covers width / 2, y the tokens.

struct Params {
  tokens: u32,
  halfWidth: u32,
  firstRow: u32,
  rows: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read_write> x: array<vec2<f32>>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = gid.x;
  let t = gid.y;
  if (w >= params.halfWidth || t >= params.tokens) {
    return;
  }
  let id = ids[t];
  if (id < params.firstRow || id - params.firstRow >= params.rows) {
    return;
  }
  x[t * params.halfWidth + w] = unpack2x16float(table[(id - params.firstRow) * params.halfWidth + w]);
}
