// model_attention: softmax attention of query rows against key and value rows, one head at a time.
//
//   visible(t) = step.position + t + 1 when CAUSAL (query t sits at position step.position + t),
//                step.kvLength otherwise
//   out[t, h, :] = Σ_{j < visible(t)} softmax_j(scale · q[t, h, :] · k[j, h, :]) · v[j, h, :]
//
// The language model passes its KV cache as k and v (positions × width) with CAUSAL set; the
// vision tower passes its own q, k, v rows with CAUSAL off and a step buffer whose kvLength is
// the row count. The scores are kept in workgroup memory (MAX_KEYS of them), so the softmax is
// exact: max, exp, sum, then the weighted sum of values; all sums in f32.
//
// Bindings: q (read) [queries, width]; k, v (read) [keys, width]; out (write) [queries, width];
// step: uniform StepParams; params: uniform Params. All f32, width = heads · headDim.
// Dispatch: one 64-thread workgroup a (head, query): x = heads, y = queries. Three barriers: after
// loading q, after the running maxima, after the exp sums.
//
// Defines: MAX_KEYS, the most keys one query sees (the model's context or the vision row count).

override CAUSAL: bool = true;
const WG = 64u;

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
  width: u32,
  headDim: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> step: StepParams;
@group(0) @binding(5) var<uniform> params: Params;

var<workgroup> qv: array<f32, 256>;
var<workgroup> scores: array<f32, {{MAX_KEYS}}>;
var<workgroup> maxima: array<f32, WG>;
var<workgroup> sums: array<f32, WG>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let t = wid.y;
  let width = params.width;
  let hd = params.headDim;
  let base = h * hd;
  var visible = step.kvLength;
  if (CAUSAL) {
    visible = step.position + t + 1u;
  }
  visible = min(visible, {{MAX_KEYS}}u);

  for (var i = lid; i < hd; i += WG) {
    qv[i] = q[t * width + base + i];
  }
  workgroupBarrier();

  var m = -3.0e38;
  for (var j = lid; j < visible; j += WG) {
    var dot = 0.0;
    let row = j * width + base;
    for (var i = 0u; i < hd; i++) {
      dot += qv[i] * k[row + i];
    }
    let s = dot * params.scale;
    scores[j] = s;
    m = max(m, s);
  }
  maxima[lid] = m;
  workgroupBarrier();
  var top = maxima[0];
  for (var w = 1u; w < WG; w++) {
    top = max(top, maxima[w]);
  }

  var sum = 0.0;
  for (var j = lid; j < visible; j += WG) {
    let e = exp(scores[j] - top);
    scores[j] = e;
    sum += e;
  }
  sums[lid] = sum;
  workgroupBarrier();
  var total = 0.0;
  for (var w = 0u; w < WG; w++) {
    total += sums[w];
  }

  for (var i = lid; i < hd; i += WG) {
    var acc = 0.0;
    for (var j = 0u; j < visible; j++) {
      acc += scores[j] * v[j * width + base + i];
    }
    out[t * width + base + i] = acc / total;
  }
}
