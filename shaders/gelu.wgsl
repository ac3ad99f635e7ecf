// gelu: y[i] = act(x[i]) for i < n, f32 in and out; x and y are separate buffers.
//
//   QUICK = false: exact GELU, x · ½ · (1 + erf(x / √2))  (the LLaVA projector)
//   QUICK = true:  quick_gelu, x · sigmoid(1.702 x)       (CLIP's MLP)
//
// WGSL has no erf. Below |z| = 1 this file sums the series
// erf(z) = 2z/√π · e^(-z²) · Σ (2z²)^n / (1·3·…·(2n+1)), whose terms are all positive, so
// nothing cancels; the same rounded z² feeds e^(-z²) and the series, so its rounding error
// cancels to first order. From |z| = 1 up, erfc(z) comes from Laplace's continued fraction
// (60 levels: under 1e-7 relative at z = 1, far less above), so ½·erfc(|z|) for negative z
// keeps its relative precision instead of cancelling in ½ · (1 - erf). Both use a range-reduced
// e^x, because WGSL's exp may be off by several ulp. The test bounds the error of ½ · (1 + erf)
// by 1.5e-7 absolute against a double-precision reference.
//
// Bindings: x (read), y (write): array<f32> [n]; params (uniform).
// Dispatch: 256 threads a workgroup, one element a thread; the grid folds into y past 65535 groups.

override QUICK: bool = false;

struct Params {
  n: u32,
  groupsX: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

const FRAC_2_SQRT_PI: f32 = 1.1283791670955126;
const FRAC_1_SQRT_PI: f32 = 0.5641895835477563;
const FRAC_1_SQRT_2: f32 = 0.7071067811865476;

// e^a for a ≤ 0: a = n·ln 2 + r with |r| ≤ ½ ln 2, where ln 2 is split so that n·LN2_HI is
// exact for |n| < 2^9; e^r from its degree-7 Taylor polynomial (truncation below 1e-8 relative).
// Results below 2^-126 flush towards zero, which is what the callers want.
fn expNegative(a: f32) -> f32 {
  const LN2_HI: f32 = 0.693145751953125;
  const LN2_LO: f32 = 1.4286068203094173e-6;
  let n = max(round(a * 1.4426950408889634), -150.0);
  let r = (a - n * LN2_HI) - n * LN2_LO;
  var p = 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return ldexp(p, i32(n));
}

// ½ · (1 + erf(z)), computed as ½ · erfc(-z) where that avoids cancellation.
fn normalCdfOfScaled(z: f32) -> f32 {
  let a = abs(z);
  if (a < 1.0) {
    let w = a * a;
    var term = 1.0;
    var sum = 1.0;
    for (var n = 0u; n < 16u; n++) {
      term *= (2.0 * w) / f32(2u * n + 3u);
      sum += term;
    }
    let erfA = FRAC_2_SQRT_PI * a * expNegative(-w) * sum;
    return select(0.5 - 0.5 * erfA, 0.5 + 0.5 * erfA, z >= 0.0);
  }
  if (a >= 10.0) {
    // erfc(10) is 2e-45, below the smallest f32; e^(-a²) would overflow its reduction.
    return select(0.0, 1.0, z >= 0.0);
  }
  var k = a;
  for (var n = 60u; n >= 1u; n--) {
    k = a + (f32(n) * 0.5) / k;
  }
  let erfcA = expNegative(-a * a) * FRAC_1_SQRT_PI / k;
  return select(0.5 * erfcA, 1.0 - 0.5 * erfcA, z >= 0.0);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * params.groupsX * 256u + gid.x;
  if (i >= params.n) {
    return;
  }
  let v = x[i];
  if (QUICK) {
    y[i] = v / (1.0 + exp(-1.702 * v));
  } else {
    y[i] = v * normalCdfOfScaled(v * FRAC_1_SQRT_2);
  }
}
