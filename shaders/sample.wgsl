{{ENABLE_SUBGROUPS}}
// sample: picks the next token id from one row of logits on the GPU, so a step reads back
// one u32 instead of a row of 50304 floats.
//
// logits: f32, the row at logits[logitsOffset .. logitsOffset + vocab). Only ids below vocab
// (OLMo: 50280 of the 50304 embedding rows) can be chosen.
// With step.temperature ≤ 0: argmax, ties to the lowest id.
// Otherwise, with m the max logit and T the temperature:
//   1. p[i] = e^((l[i] - m) / T) into scratch[i], Z = Σ p (p of the max is exactly 1).
//   2. top-p: the kept set is {i : p[i] ≥ τ} for the largest τ whose kept mass is ≥ topP·Z,
//      i.e. the fewest most likely tokens reaching topP (tokens tied with the last one kept
//      are all kept). τ is found by a binary search over the bits of a non-negative f32
//      (31 passes, each summing the mass at or above a candidate); topP = 1 keeps all.
//   3. Gumbel-max: the id maximizing (l[i] - m)/T + g[i] over the kept set, with
//      g[i] = -ln(-ln(u[i])) and u[i] uniform in (0, 1) from a PCG hash of (seed, sampleIndex, i).
//      That draws i with probability p[i] / Σ_kept p, and the draw depends only on the seed,
//      the counter and the logits: no RNG state lives on the GPU.
// The id goes to token[0] and, with HISTORY, also to history[step.sampleIndex].
// scratch: f32 [vocab + 4]; after the kernel, scratch[vocab ..] = τ, kept mass, Z, kept count
// (for tests and tools; valid when temperature > 0).
//
// Bindings: logits (read), token (read_write) u32 [1], history (read_write) u32, scratch
// (read_write), params (uniform), step (uniform StepParams).
// Dispatch: one workgroup of WG threads. Sums are reduced in workgroup memory in a fixed
// order, so a seed gives the same ids run after run. The argmax reductions have two variants:
// with subgroups, subgroupMax/subgroupMin and two workgroup atomics (order does not matter for
// a max with lowest-id ties, so the result is the same); without, a tree in workgroup memory.
// The placeholders {{IF_SUBGROUPS}} … {{END_IF_SUBGROUPS}} become "" or a nested /* */ comment.

override HISTORY: bool = false;

struct Params {
  vocab: u32,
  logitsOffset: u32,
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

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> token: array<u32>;
@group(0) @binding(2) var<storage, read_write> history: array<u32>;
@group(0) @binding(3) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
@group(0) @binding(5) var<uniform> step: StepParams;

// Threads a workgroup, a power of two: 256 on GPUs, a few on CPU drivers (see the wrapper).
override WG: u32 = 256u;
const NO_INDEX: u32 = 0xffffffffu;

var<workgroup> partial: array<f32, WG>;
var<workgroup> keptCount: atomic<u32>;

// Maps f32 to u32 so that unsigned order is float order (-inf lowest).
fn orderedBits(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn fromOrderedBits(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

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

{{IF_SUBGROUPS}}
var<workgroup> bestKey: atomic<u32>;
var<workgroup> bestIndex: atomic<u32>;

// Returns (orderedBits of the max, lowest index holding it) over the workgroup.
fn workgroupArgmax(lid: u32, key: u32, index: u32) -> vec2<u32> {
  if (lid == 0u) {
    atomicStore(&bestKey, 0u);
    atomicStore(&bestIndex, NO_INDEX);
  }
  workgroupBarrier();
  let groupKey = subgroupMax(key);
  let groupIndex = subgroupMin(select(NO_INDEX, index, key == groupKey));
  let leader = subgroupElect();
  if (leader) {
    atomicMax(&bestKey, groupKey);
  }
  workgroupBarrier();
  let winner = atomicLoad(&bestKey);
  if (leader && groupKey == winner) {
    atomicMin(&bestIndex, groupIndex);
  }
  workgroupBarrier();
  let result = vec2<u32>(winner, atomicLoad(&bestIndex));
  workgroupBarrier();
  return result;
}
{{END_IF_SUBGROUPS}}

{{IF_NOT_SUBGROUPS}}
var<workgroup> keys: array<u32, WG>;
var<workgroup> indices: array<u32, WG>;

// Returns (orderedBits of the max, lowest index holding it) over the workgroup.
fn workgroupArgmax(lid: u32, key: u32, index: u32) -> vec2<u32> {
  keys[lid] = key;
  indices[lid] = index;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      let otherKey = keys[lid + stride];
      let otherIndex = indices[lid + stride];
      if (otherKey > keys[lid] || (otherKey == keys[lid] && otherIndex < indices[lid])) {
        keys[lid] = otherKey;
        indices[lid] = otherIndex;
      }
    }
    workgroupBarrier();
  }
  let result = vec2<u32>(keys[0], indices[0]);
  workgroupBarrier();
  return result;
}
{{END_IF_NOT_SUBGROUPS}}

fn emit(lid: u32, id: u32) {
  if (lid == 0u) {
    token[0] = id;
    if (HISTORY) {
      history[step.sampleIndex] = id;
    }
  }
}

// Mass of the probabilities whose bits are at or above `threshold`.
fn massAtOrAbove(lid: u32, threshold: u32) -> f32 {
  var sum = 0.0;
  for (var i = lid; i < params.vocab; i += WG) {
    let p = scratch[i];
    if (bitcast<u32>(p) >= threshold) {
      sum += p;
    }
  }
  return workgroupSum(lid, sum);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let vocab = params.vocab;
  let base = params.logitsOffset;

  // Max logit; a strict > over increasing i keeps each thread's lowest id on ties.
  var bestKeyLocal = 0u;
  var bestIndexLocal = NO_INDEX;
  for (var i = lid; i < vocab; i += WG) {
    let key = orderedBits(logits[base + i]);
    if (key > bestKeyLocal) {
      bestKeyLocal = key;
      bestIndexLocal = i;
    }
  }
  let best = workgroupArgmax(lid, bestKeyLocal, bestIndexLocal);
  if (step.temperature <= 0.0) {
    emit(lid, best.y);
    return;
  }

  let maxLogit = fromOrderedBits(best.x);
  let invT = 1.0 / step.temperature;
  var sum = 0.0;
  for (var i = lid; i < vocab; i += WG) {
    let p = exp((logits[base + i] - maxLogit) * invT);
    scratch[i] = p;
    sum += p;
  }
  // Until the last pass each thread reads only the scratch entries it wrote itself, so no
  // storage barrier is needed.
  let total = workgroupSum(lid, sum);

  var threshold = 0u;
  var kept = total;
  if (step.topP < 1.0) {
    let wanted = step.topP * total;
    for (var bit = 30i; bit >= 0i; bit--) {
      let candidate = threshold | (1u << u32(bit));
      let mass = massAtOrAbove(lid, candidate);
      if (mass >= wanted) {
        threshold = candidate;
        kept = mass;
      }
    }
  }

  if (lid == 0u) {
    atomicStore(&keptCount, 0u);
  }
  workgroupBarrier();
  let streamKey = pcg(pcg(step.seed) ^ step.sampleIndex);
  var count = 0u;
  var drawKey = 0u;
  var drawIndex = NO_INDEX;
  for (var i = lid; i < vocab; i += WG) {
    if (bitcast<u32>(scratch[i]) >= threshold) {
      count++;
      let u = (f32(pcg(streamKey ^ pcg(i)) >> 8u) + 0.5) * (1.0 / 16777216.0);
      let key = orderedBits((logits[base + i] - maxLogit) * invT - log(-log(u)));
      if (key > drawKey) {
        drawKey = key;
        drawIndex = i;
      }
    }
  }
  atomicAdd(&keptCount, count);
  let drawn = workgroupArgmax(lid, drawKey, drawIndex);
  emit(lid, drawn.y);
  if (lid == 0u) {
    scratch[vocab] = bitcast<f32>(threshold);
    scratch[vocab + 1u] = kept;
    scratch[vocab + 2u] = total;
    scratch[vocab + 3u] = f32(atomicLoad(&keptCount));
  }
}
