// CPU references for the elementwise kernels, in double precision.

/**
 * erf in double precision (JavaScript has none): the all-positive series
 * erf(z) = 2z/√π · e^(-z²) · Σ (2z²)^n / (1·3·…·(2n+1)) below |z| = 3, and Laplace's continued
 * fraction for erfc above. Agrees with Python's math.erf to about 1e-15 (see the test).
 */
export function erf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  const a = Math.abs(z);
  let value: number;
  if (a < 3) {
    const w = a * a;
    let term = 1;
    let sum = 1;
    for (let n = 0; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * w) / (2 * n + 3);
      sum += term;
    }
    value = ((2 * a) / Math.sqrt(Math.PI)) * Math.exp(-w) * sum;
  } else {
    value = 1 - erfcLarge(a);
  }
  return z < 0 ? -value : value;
}

/** erfc(z) for z ≥ 3 by the continued fraction e^(-z²)/√π / (z + (1/2)/(z + 1/(z + (3/2)/(z + …)))). */
function erfcLarge(z: number): number {
  let k = z;
  for (let n = 200; n >= 1; n--) k = z + n / 2 / k;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / k;
}

export function geluReference(x: ArrayLike<number>): Float32Array {
  return Float32Array.from(x, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
}

export function quickGeluReference(x: ArrayLike<number>): Float32Array {
  return Float32Array.from(x, (v) => v / (1 + Math.exp(-1.702 * v)));
}

/** SwiGLU of u [rows, 2·hidden]: the first half of each row is x, the second the gate; returns silu(gate)·x [rows, hidden]. */
export function swigluReference(u: ArrayLike<number>, rows: number, hidden: number): Float32Array {
  const out = new Float32Array(rows * hidden);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < hidden; j++) {
      const x = u[r * 2 * hidden + j];
      const gate = u[r * 2 * hidden + hidden + j];
      out[r * hidden + j] = (gate / (1 + Math.exp(-gate))) * x;
    }
  }
  return out;
}
