// CPU reference of CLIP's patch embedding (conv with kernel = stride = patch, class row, positions).

/** image [3, height, width], conv [channels, 3, patch, patch], classEmbedding [channels], position [1 + patches, channels]. */
export function patchEmbedReference(image: ArrayLike<number>, conv: ArrayLike<number>, classEmbedding: ArrayLike<number>, position: ArrayLike<number>, height: number, width: number, patch: number, channels: number): Float32Array {
  const gridH = height / patch;
  const gridW = width / patch;
  const out = new Float32Array((1 + gridH * gridW) * channels);
  for (let ch = 0; ch < channels; ch++) out[ch] = classEmbedding[ch] + position[ch];
  for (let py = 0; py < gridH; py++) {
    for (let px = 0; px < gridW; px++) {
      const row = 1 + py * gridW + px;
      for (let ch = 0; ch < channels; ch++) {
        let sum = 0;
        for (let c = 0; c < 3; c++) {
          for (let ky = 0; ky < patch; ky++) {
            for (let kx = 0; kx < patch; kx++) {
              sum += conv[((ch * 3 + c) * patch + ky) * patch + kx] * image[(c * height + py * patch + ky) * width + px * patch + kx];
            }
          }
        }
        out[row * channels + ch] = sum + position[row * channels + ch];
      }
    }
  }
  return out;
}
