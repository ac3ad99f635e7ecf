// CPU reference of the sampler's distribution: which ids top-p keeps and with what probability.

export interface SampleDistribution {
  /** Kept ids, ascending. */
  ids: number[];
  /** Probability of each kept id after renormalizing, in the order of `ids`. */
  probabilities: number[];
}

/** Argmax of the first `vocab` logits, ties to the lowest id. */
export function argmaxReference(logits: ArrayLike<number>, vocab: number): number {
  let best = 0;
  for (let i = 1; i < vocab; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * Computes the distribution the sampler draws from: softmax(logits / temperature) over ids < vocab,
 * truncated to the fewest most likely ids whose mass reaches topP (ids tied with the last kept
 * one included), renormalized. Computed in double precision.
 */
export function topPDistribution(logits: ArrayLike<number>, vocab: number, temperature: number, topP: number): SampleDistribution {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[i]);
  const p = Array.from({ length: vocab }, (_, i) => Math.exp((logits[i] - max) / temperature));
  const total = p.reduce((a, b) => a + b, 0);
  const order = [...p.keys()].sort((a, b) => p[b] - p[a] || a - b);
  let threshold = 0;
  if (topP < 1) {
    let mass = 0;
    for (const i of order) {
      mass += p[i];
      threshold = p[i];
      if (mass >= topP * total) break;
    }
  }
  const ids = [...p.keys()].filter((i) => p[i] >= threshold && (threshold > 0 || topP >= 1));
  const kept = ids.reduce((a, i) => a + p[i], 0);
  return { ids, probabilities: ids.map((i) => p[i] / kept) };
}
