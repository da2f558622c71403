#!/usr/bin/python3
"""Writes the seed corpus of the fuzz targets into tests/fuzz/corpus/<target>/: small valid
inputs of each format, from which libFuzzer mutates. Run by hand; the files are committed.

  /usr/bin/python3 tests/fuzz/make_corpus.py
"""
import gzip
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def idx(dims, fill=1):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes([fill] * eval("*".join(map(str, dims))))


def main():
    # Regenerate the seeds; inputs that once crashed a target (crash-*) are kept, never generated.
    for target in os.listdir(OUT) if os.path.isdir(OUT) else []:
        for f in os.listdir(os.path.join(OUT, target)):
            if not f.startswith("crash-"):
                os.remove(os.path.join(OUT, target, f))
    put("safetensors", "f32", safetensors({"w": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4))}))
    put("safetensors", "mixed", safetensors({"a": ("F16", [2], struct.pack("<2e", 1.5, -2)),
                                             "b": ("BF16", [1], b"\x80\x3f"), "c": ("F64", [1], struct.pack("<d", 0.25))},
                                            {"format": "pt", "epoch": "3"}))
    put("safetensors", "empty_tensor", safetensors({"e": ("F32", [0, 3], b"")}))
    put("idx", "images", idx([2, 2, 3]))
    put("idx", "labels", idx([4], 2))
    put("idx", "images.gz", gzip.compress(idx([3, 2, 2]), mtime=0))
    for f in ["one_pixel.png", "grey.png", "grey16.png", "rgba.png", "cmyk.jpg", "png_named.JPEG", "progressive.jpg",
              "rgb.bmp", "rgb.ppm", "grey.pgm"]:
        put("image", f, open(os.path.join(ROOT, "tests", "data", "fixtures", "formats", f), "rb").read())
    for f in ["vitality.cfg", "sanger.cfg", "energy-45nm.cfg"]:
        put("hw_config", f, open(os.path.join(ROOT, "hwmodel", "configs", f)).read())
    put("workload", "deit_tiny.csv", "Layer,M,N,K,\nqkv,197,576,192,\nproj,197,192,192,\nqk,197,197,64,3\n")
    put("workload", "one.csv", "name,M,N,K\nx,4,4,4\n")
    put("class_map", "imagenette.txt", "n01440764\nn02102040\n  n02979186  \n\nn03000684\n")
    put("class_map", "one.txt", "cat")


if __name__ == "__main__":
    main()
