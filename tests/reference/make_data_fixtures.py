#!/usr/bin/python3
"""Fixtures for tests/data, computed with PIL (Debian's python3-pil 9.4) the way DeiT's pipeline
(torchvision 0.14 / timm 0.3) uses it. Never run by the build or CI.

Photos come from Debian's python3-skimage sample data (CC0 / public domain: chelsea by Stefan
van der Walt, coffee by Rachel Michetti, camera by Lav Varshney, rocket by SpaceX/NASA),
re-encoded as JPEG so the tests exercise the JPEG decoder.

Writes tests/data/fixtures/:
  photos/*.jpg              the photos (decoded by stb_image in the tests)
  formats/*                 small files in the formats ImageNet throws at a loader: CMYK JPEG,
                            16-bit and grey PNG, RGBA PNG, a PNG named .JPEG, a 1x1 image,
                            a progressive JPEG, BMP, PPM and PGM
  eval_pil.safetensors      the eval transform's uint8 output ("eval.<name>.<interp>.<size>"):
                            Resize of the shorter side to int(size / 0.875) then CenterCrop(size),
                            for every photo at 224 bicubic, and for chelsea also bilinear and 160,
                            plus PIL's decode of chelsea ("decoded.chelsea", H x W x 3)
  augment_pil.safetensors   a 96x64 base image and every RandAugment op at magnitude 9, both signs
                            ("op.<Name>.<+|->"), computed with timm 0.3.3's op code on PIL

Run:  /usr/bin/python3 tests/reference/make_data_fixtures.py
"""
import io
import json
import math
import os
import shutil
import struct

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "fixtures")
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"


def save_safetensors(path, tensors):
    """All tensors as U8 (pixel values)."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype=np.uint8)
        header[name] = {"dtype": "U8", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# ----------------------------------------------------------------------------- torchvision eval
def tv_resize_shorter(img, size, interp):
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return img.resize((new_w, new_h), interp)


def tv_center_crop(img, size):
    w, h = img.size
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


def eval_transform(img, size, interp, crop_ratio=0.875):
    return tv_center_crop(tv_resize_shorter(img, int(size / crop_ratio), interp), size)


# ----------------------------------------------------------------------------- timm 0.3.3 ops
FILL = (124, 116, 104)
KW = dict(fillcolor=FILL, resample=Image.BICUBIC)


def blend_op(cls):
    return lambda img, f: cls(img).enhance(f)


def op_argument(name, level, negate):
    sign = -1.0 if negate else 1.0
    level = level / 10.0
    return {
        "Rotate": sign * level * 30.0,
        "PosterizeIncreasing": 4 - int(level * 4),
        "SolarizeIncreasing": 256 - int(level * 256),
        "SolarizeAdd": int(level * 110),
        "ColorIncreasing": 1.0 + sign * level * 0.9,
        "ContrastIncreasing": 1.0 + sign * level * 0.9,
        "BrightnessIncreasing": 1.0 + sign * level * 0.9,
        "SharpnessIncreasing": 1.0 + sign * level * 0.9,
        "ShearX": sign * level * 0.3,
        "ShearY": sign * level * 0.3,
        "TranslateXRel": sign * level * 0.45,
        "TranslateYRel": sign * level * 0.45,
    }.get(name)


def solarize_add(img, add, thresh=128):
    lut = [min(255, i + add) if i < thresh else i for i in range(256)]
    return img.point(lut + lut + lut)


OPS = {
    "AutoContrast": lambda img, a: ImageOps.autocontrast(img),
    "Equalize": lambda img, a: ImageOps.equalize(img),
    "Invert": lambda img, a: ImageOps.invert(img),
    "Rotate": lambda img, a: img.rotate(a, **KW),
    "PosterizeIncreasing": lambda img, a: img if a >= 8 else ImageOps.posterize(img, a),
    "SolarizeIncreasing": lambda img, a: ImageOps.solarize(img, a),
    "SolarizeAdd": solarize_add,
    "ColorIncreasing": blend_op(ImageEnhance.Color),
    "ContrastIncreasing": blend_op(ImageEnhance.Contrast),
    "BrightnessIncreasing": blend_op(ImageEnhance.Brightness),
    "SharpnessIncreasing": blend_op(ImageEnhance.Sharpness),
    "ShearX": lambda img, a: img.transform(img.size, Image.AFFINE, (1, a, 0, 0, 1, 0), **KW),
    "ShearY": lambda img, a: img.transform(img.size, Image.AFFINE, (1, 0, 0, a, 1, 0), **KW),
    "TranslateXRel": lambda img, a: img.transform(img.size, Image.AFFINE, (1, 0, a * img.size[0], 0, 1, 0), **KW),
    "TranslateYRel": lambda img, a: img.transform(img.size, Image.AFFINE, (1, 0, 0, 0, 1, a * img.size[1]), **KW),
}


def main():
    photos = os.path.join(OUT, "photos")
    formats = os.path.join(OUT, "formats")
    os.makedirs(photos, exist_ok=True)
    os.makedirs(formats, exist_ok=True)
    # name: (source, size to re-encode at): shorter sides 300 (downscaled to 256) and 200 (upscaled)
    sources = {"chelsea": ("chelsea.png", (451, 300)), "coffee": ("coffee.png", (300, 200)),
               "camera": ("camera.png", (256, 256)), "rocket": ("rocket.jpg", (214, 320))}
    for name, (src, size) in sources.items():
        im = Image.open(os.path.join(SKIMAGE, src))
        if im.size != size:
            im = im.resize(size, Image.LANCZOS)
        im.save(os.path.join(photos, name + ".jpg"), quality=90)

    tensors = {}
    for name in sources:
        img = Image.open(os.path.join(photos, name + ".jpg")).convert("RGB")
        if name == "chelsea":
            tensors[f"decoded.{name}"] = np.asarray(img)  # identical input for the arithmetic tests
            tensors[f"eval.{name}.bilinear.224"] = np.asarray(eval_transform(img, 224, Image.BILINEAR))
            tensors[f"eval.{name}.bicubic.160"] = np.asarray(eval_transform(img, 160, Image.BICUBIC))
        tensors[f"eval.{name}.bicubic.224"] = np.asarray(eval_transform(img, 224, Image.BICUBIC))
    save_safetensors(os.path.join(OUT, "eval_pil.safetensors"), tensors)

    base = Image.open(os.path.join(photos, "chelsea.jpg")).convert("RGB").resize((96, 64), Image.BICUBIC)
    aug = {"base": np.asarray(base)}
    for name, fn in OPS.items():
        for negate in (False, True):
            a = op_argument(name, 9, negate)
            aug[f"op.{name}.{'-' if negate else '+'}"] = np.asarray(fn(base, a))
    save_safetensors(os.path.join(OUT, "augment_pil.safetensors"), aug)

    # Formats: CMYK JPEG (Adobe APP14), 16-bit PNG, grey PNG, RGBA PNG, PNG named .JPEG, 1x1.
    small = base.resize((32, 24), Image.BICUBIC)
    small.convert("CMYK").save(os.path.join(formats, "cmyk.jpg"), quality=95)
    grey16 = np.asarray(small.convert("L"), dtype=np.uint16) * 257
    Image.fromarray(grey16.astype(np.uint16), mode="I;16").save(os.path.join(formats, "grey16.png"))
    small.convert("L").save(os.path.join(formats, "grey.png"))
    rgba = small.convert("RGBA")
    rgba.putalpha(128)
    rgba.save(os.path.join(formats, "rgba.png"))
    buf = io.BytesIO()
    small.save(buf, format="PNG")
    with open(os.path.join(formats, "png_named.JPEG"), "wb") as f:
        f.write(buf.getvalue())
    Image.new("RGB", (1, 1), (200, 100, 50)).save(os.path.join(formats, "one_pixel.png"))
    # The other formats stb decodes for torchvision's IMG_EXTENSIONS, and a progressive JPEG
    # (Huffman tables between its scans).
    small.save(os.path.join(formats, "progressive.jpg"), quality=90, progressive=True)
    small.save(os.path.join(formats, "rgb.bmp"))
    small.save(os.path.join(formats, "rgb.ppm"))
    small.convert("L").save(os.path.join(formats, "grey.pgm"))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
