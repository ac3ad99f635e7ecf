// patch_embed: CLIP's embeddings layer. A conv with kernel = stride = patch (no bias) turns the
// image into one row per patch, the class embedding is prepended and the position embedding added:
//
//   out[0, ch]     = class[ch] + pos[0, ch]
//   out[1 + n, ch] = Σ_{c, ky, kx} w[ch, c, ky, kx] · image[c, py·patch + ky, px·patch + kx] + pos[1 + n, ch]
//
// with patch n = py·gridW + px in row-major order over the grid (as PyTorch flattens the conv
// output). image: f32 [3, H, W], normalized. w: [width, 3, patch, patch]; class: [width];
// pos: [1 + patches, width]; all three f16 (raw halves, two a u32, low half first) when
// WEIGHT_F16, else f32. out: f32 [1 + patches, width].
// Bindings: image, w, class, pos (read), out (write), params (uniform).
// Dispatch: (1 + patches, ceil(width / 256)) workgroups of 256 threads. A workgroup copies its
// patch's 3·patch² pixels into workgroup memory once, then each thread computes one channel.

override WEIGHT_F16: bool = true;

struct Params {
  width: u32,
  patchSize: u32,
  gridW: u32,
  imageH: u32,
  imageW: u32,
  patches: u32,
}

@group(0) @binding(0) var<storage, read> image: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> classEmbedding: array<u32>;
@group(0) @binding(3) var<storage, read> pos: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

const WG: u32 = 256u;
const PATCH_ELEMENTS: u32 = {{PATCH_ELEMENTS}}u;
var<workgroup> pixels: array<f32, PATCH_ELEMENTS>;

// Element e of a tensor stored as halves or as f32 bits in a u32 array.
fn element(index: u32, word: u32) -> f32 {
  if (WEIGHT_F16) {
    return unpack2x16float(select(word & 0xffffu, word >> 16u, (index & 1u) == 1u)).x;
  }
  return bitcast<f32>(word);
}

fn wordIndex(index: u32) -> u32 {
  return select(index, index >> 1u, WEIGHT_F16);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  let ch = wid.y * WG + lid;
  let p = params.patchSize;
  let area = p * p;

  if (row > 0u) {
    let n = row - 1u;
    let py = n / params.gridW;
    let px = n - py * params.gridW;
    for (var k = lid; k < 3u * area; k += WG) {
      let c = k / area;
      let ky = (k - c * area) / p;
      let kx = k - c * area - ky * p;
      pixels[k] = image[(c * params.imageH + py * p + ky) * params.imageW + px * p + kx];
    }
  }
  workgroupBarrier();
  if (ch >= params.width) {
    return;
  }

  var value = 0.0;
  if (row == 0u) {
    value = element(ch, classEmbedding[wordIndex(ch)]);
  } else {
    let base = ch * 3u * area;
    for (var k = 0u; k < 3u * area; k++) {
      let e = base + k;
      value += pixels[k] * element(e, w[wordIndex(e)]);
    }
  }
  let posIndex = row * params.width + ch;
  out[row * params.width + ch] = value + element(posIndex, pos[wordIndex(posIndex)]);
}
