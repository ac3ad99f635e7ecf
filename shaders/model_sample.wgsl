// model_sample: picks the next token from one row of logits on the GPU, so a decoding step reads
// back one u32 instead of a row of logits. Ids at or above `vocab` (the embedding's padding rows)
// are never chosen.
//
//   temperature ≤ 0: token = argmax_{i < vocab} logits[i], ties to the lowest id
//   otherwise:       p_i = exp((logits[i] − max) / temperature)
//                    nucleus: keep p_i ≥ τ, τ the largest threshold whose kept mass is at least
//                    topP · Σ p (found by 30 bisection steps on [0, 1]; topP = 1 keeps all)
//                    u = uniformAt(seed, sampleIndex) · kept mass; walking ids upward, the
//                    token is the first kept id where the running mass passes u
//
// uniformAt is a counter-based hash of (seed, sampleIndex) (the same as `uniformAt` in
// app/engine/reference/runner.ts), so a seed replays the same tokens on every adapter.
//
// Bindings: logits (read) f32 [≥ vocab]; token (write) u32 [1]; step: uniform StepParams
// (sampleIndex, seed, temperature, topP); params: uniform Params.
// Dispatch: one workgroup of 256 threads; thread l owns ids [l·chunk, (l + 1)·chunk), and its
// partial sums are combined in a fixed order, so the result is the same run to run.

const WG = 256u;

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
  vocab: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> token: array<u32>;
@group(0) @binding(2) var<uniform> step: StepParams;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> bestValue: array<f32, WG>;
var<workgroup> bestId: array<u32, WG>;
var<workgroup> part: array<f32, WG>;

fn uniformAt(seed: u32, counter: u32) -> f32 {
  var h = ((seed ^ 0x9e3779b9u) * 0x85ebca6bu) ^ ((counter + 1u) * 0xc2b2ae35u);
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  // Top 24 bits, so the value is exact in f32 and below 1.
  return f32(h >> 8u) / 16777216.0;
}

// Sum over the workgroup of each thread's `value`, read by every thread.
fn total(lid: u32, value: f32) -> f32 {
  part[lid] = value;
  workgroupBarrier();
  var sum = 0.0;
  for (var w = 0u; w < WG; w++) {
    sum += part[w];
  }
  workgroupBarrier();
  return sum;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  let vocab = params.vocab;
  let chunk = (vocab + WG - 1u) / WG;
  let lo = min(lid * chunk, vocab);
  let hi = min(lo + chunk, vocab);

  var best = -3.0e38;
  var id = lo;
  for (var i = lo; i < hi; i++) {
    if (logits[i] > best) {
      best = logits[i];
      id = i;
    }
  }
  bestValue[lid] = best;
  bestId[lid] = id;
  workgroupBarrier();
  var top = bestValue[0];
  var topId = bestId[0];
  for (var w = 1u; w < WG; w++) {
    if (bestValue[w] > top) {
      top = bestValue[w];
      topId = bestId[w];
    }
  }
  if (step.temperature <= 0.0) {
    if (lid == 0u) {
      token[0] = topId;
    }
    return;
  }

  let invT = 1.0 / step.temperature;
  var mine = 0.0;
  for (var i = lo; i < hi; i++) {
    mine += exp((logits[i] - top) * invT);
  }
  let wanted = step.topP * total(lid, mine);

  var tau = 0.0;
  if (step.topP < 1.0) {
    var upper = 1.0;
    for (var iter = 0u; iter < 30u; iter++) {
      let mid = 0.5 * (tau + upper);
      var kept = 0.0;
      for (var i = lo; i < hi; i++) {
        let p = exp((logits[i] - top) * invT);
        if (p >= mid) {
          kept += p;
        }
      }
      if (total(lid, kept) >= wanted) {
        tau = mid;
      } else {
        upper = mid;
      }
    }
  }

  var kept = 0.0;
  for (var i = lo; i < hi; i++) {
    let p = exp((logits[i] - top) * invT);
    if (p >= tau) {
      kept += p;
    }
  }
  part[lid] = kept;
  workgroupBarrier();
  if (lid != 0u) {
    return;
  }
  var mass = 0.0;
  for (var w = 0u; w < WG; w++) {
    mass += part[w];
  }
  var u = uniformAt(step.seed, step.sampleIndex) * mass;
  var chosen = topId;
  for (var w = 0u; w < WG; w++) {
    if (u >= part[w]) {
      u -= part[w];
      continue;
    }
    let first = min(w * chunk, vocab);
    let last = min(first + chunk, vocab);
    for (var i = first; i < last; i++) {
      let p = exp((logits[i] - top) * invT);
      if (p >= tau) {
        chosen = i;
        u -= p;
        if (u < 0.0) {
          break;
        }
      }
    }
    break;
  }
  token[0] = chosen;
}
