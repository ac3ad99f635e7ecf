"""Write the image preprocessing fixtures: synthetic inputs and PIL's 336x336 results.

Run with a Python that has Pillow 9.4 and numpy (Debian's /usr/bin/python3):

    /usr/bin/python3 app/test/data/images/make_fixtures.py

For each input, `expected/<name>.png` is the 8-bit RGB image that LLaVA-1.5 hands to the CLIP
normalisation: convert to RGB, pad to a square with the CLIP mean colour (`expand2square`),
resize to 336x336 with PIL's BICUBIC, centre crop. Two steps are the project's own choice, so
they are done here in numpy before PIL takes over. Alpha is composited on the pad colour with
round((a*c + (255 - a)*bg) / 255). 16-bit samples are scaled by 255/65535, where PIL would keep
only the high byte. EXIF orientation is applied with `ImageOps.exif_transpose`.
"""

import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
SYNTHETIC = os.path.join(HERE, "synthetic")
EXPECTED = os.path.join(HERE, "expected")
SIZE = 336
BACKGROUND = (122, 116, 104)
EXIF_ORIENTATION = 0x0112


def write_png(path, samples, colour_type, bit_depth):
    """Write a PNG by hand, for the layouts PIL cannot save (16-bit RGB and greyscale+alpha)."""
    height, width = samples.shape[:2]
    dtype = ">u2" if bit_depth == 16 else "u1"
    rows = samples.astype(dtype).reshape(height, -1)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    with open(path, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n")
        file.write(chunk(b"IHDR", header))
        file.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        file.write(chunk(b"IEND", b""))


def composite(rgba):
    """Composite 8-bit RGBA (numpy, H x W x 4) on the pad colour, rounding as the engine does."""
    colour = rgba[..., :3].astype(np.int64)
    alpha = rgba[..., 3:4].astype(np.int64)
    background = np.array(BACKGROUND, dtype=np.int64)
    numerator = alpha * colour + (255 - alpha) * background
    # numerator / 255 is never exactly halfway, so floor(x + 0.5) is round-to-nearest.
    return Image.fromarray(((2 * numerator + 255) // 510).astype(np.uint8), "RGB")


def to_rgb(image):
    """Convert a decoded PIL image to 8-bit RGB the way the engine does."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        return composite(np.asarray(image.convert("RGBA")))
    return image.convert("RGB")


def scale16(samples):
    """Scale 16-bit samples to 8 bits by 255/65535; the quotient is never exactly halfway."""
    return ((samples.astype(np.int64) * 510 + 65535) // 131070).astype(np.uint8)


def expand2square(image, background):
    """LLaVA-1.5's padding: the image pasted at floor(difference / 2) on a square canvas."""
    width, height = image.size
    if width == height:
        return image
    side = max(width, height)
    result = Image.new(image.mode, (side, side), background)
    result.paste(image, ((side - width) // 2, (side - height) // 2))
    return result


def resize_and_crop(image):
    """Resize the shorter side to SIZE with BICUBIC, then crop the centre, as CLIPImageProcessor."""
    width, height = image.size
    short, long = min(width, height), max(width, height)
    new_long = int(SIZE * long / short)
    new_size = (SIZE, new_long) if width <= height else (new_long, SIZE)
    image = image.resize(new_size, Image.BICUBIC)
    left = (image.size[0] - SIZE) // 2
    top = (image.size[1] - SIZE) // 2
    return image.crop((left, top, left + SIZE, top + SIZE))


def llava_pixels(image, aspect="pad"):
    rgb = to_rgb(image)
    if aspect == "pad":
        rgb = expand2square(rgb, BACKGROUND)
    return resize_and_crop(rgb)


def noise(height, width, channels, seed):
    """Smooth-ish random texture, so that resampling errors show up in every pixel."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(height, width, channels))
    ramp = np.linspace(0, 255, width)[None, :, None]
    return ((base + ramp) / 2).astype(np.uint8)


def make_synthetic():
    """Write the synthetic inputs; return {name: (path, aspect[, decoded source])}."""
    os.makedirs(SYNTHETIC, exist_ok=True)
    cases = {}

    def save(name, image, **options):
        path = os.path.join(SYNTHETIC, name)
        image.save(path, **options)
        cases[os.path.splitext(name)[0]] = (path, "pad")

    # Odd padding differences in both directions, upscaled from a small image.
    save("wide-odd.png", Image.fromarray(noise(30, 45, 3, 1), "RGB"))
    save("tall-odd.png", Image.fromarray(noise(40, 21, 3, 2), "RGB"))
    save("one-pixel.png", Image.fromarray(np.array([[[200, 30, 90]]], dtype=np.uint8), "RGB"))
    save("exact-size.png", Image.fromarray(noise(336, 336, 3, 3), "RGB"))
    save("greyscale.png", Image.fromarray(noise(33, 40, 1, 4)[..., 0], "L"))

    rgba = noise(41, 60, 4, 5)
    rgba[:, :8, 3] = 0
    rgba[:, 8:16, 3] = 255
    save("rgba.png", Image.fromarray(rgba, "RGBA"))

    grey_alpha = noise(50, 35, 2, 6)
    write_png(os.path.join(SYNTHETIC, "grey-alpha.png"), grey_alpha, colour_type=4, bit_depth=8)
    cases["grey-alpha"] = (os.path.join(SYNTHETIC, "grey-alpha.png"), "pad")

    palette = Image.fromarray(noise(48, 52, 3, 7), "RGB").quantize(colors=16)
    save("palette.png", palette)
    palette_alpha = palette.copy()
    palette_alpha.info["transparency"] = bytes([0, 64, 128, 255] * 4)
    save("palette-alpha.png", palette_alpha, transparency=bytes([0, 64, 128, 255] * 4))

    rng = np.random.default_rng(8)
    rgb16 = rng.integers(0, 65536, size=(30, 37, 3))
    write_png(os.path.join(SYNTHETIC, "rgb16.png"), rgb16, colour_type=2, bit_depth=16)
    # PIL reads 16-bit PNGs lossily, so the 8-bit source is made here from the known samples.
    cases["rgb16"] = (os.path.join(SYNTHETIC, "rgb16.png"), "pad", Image.fromarray(scale16(rgb16), "RGB"))
    grey16 = rng.integers(0, 65536, size=(26, 31))
    write_png(os.path.join(SYNTHETIC, "grey16.png"), grey16, colour_type=0, bit_depth=16)
    cases["grey16"] = (os.path.join(SYNTHETIC, "grey16.png"), "pad", Image.fromarray(scale16(grey16), "L").convert("RGB"))

    # Every EXIF orientation on a non-square PNG (eXIf chunk), and one on a JPEG photo.
    oriented = Image.fromarray(noise(24, 40, 3, 9), "RGB")
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[EXIF_ORIENTATION] = orientation
        save(f"orientation-{orientation}.png", oriented, exif=exif)
    photo = Image.open(os.path.join(HERE, "chelsea.png")).convert("RGB").crop((100, 40, 260, 140))
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    # Full-resolution chroma (4:4:4): with 4:2:0, jpeg-js's nearest-neighbour chroma upsampling
    # differs from libjpeg's smoothed upsampling by up to about 13 levels at colour edges.
    save("rotated-photo.jpg", photo, exif=exif, quality=95, subsampling=0)

    # The other aspect mode: no padding, shorter side resized, centre crop.
    cases["chelsea-crop"] = (os.path.join(HERE, "chelsea.png"), "crop")
    return cases


def main():
    os.makedirs(EXPECTED, exist_ok=True)
    cases = {
        name: (os.path.join(HERE, name + extension), "pad")
        for name, extension in [("chelsea", ".png"), ("coffee", ".png"), ("camera", ".png"), ("rocket", ".jpg")]
    }
    cases.update(make_synthetic())
    for name, (path, aspect, *source) in sorted(cases.items()):
        result = llava_pixels(source[0] if source else Image.open(path), aspect)
        assert result.size == (SIZE, SIZE), f"{name}: size {result.size}"
        assert result.mode == "RGB", f"{name}: mode {result.mode}"
        result.save(os.path.join(EXPECTED, name + ".png"), optimize=True)
        print(f"{name}: {os.path.relpath(path, HERE)} ({aspect})")


if __name__ == "__main__":
    main()
