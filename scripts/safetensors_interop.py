"""Reads a checkpoint written by `./bandlimit train` with Hugging Face's `safetensors` package,
checks it against a plain numpy parse of the format (8-byte little-endian header length, JSON
header, raw little-endian tensors), and writes the tensors back with `safetensors.numpy.save_file`
so that `./bandlimit eval` can show the round trip keeps the trained function.

Usage: python safetensors_interop.py IN.safetensors OUT.safetensors
"""
import json
import struct
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file


def main(src, dst):
    with safe_open(src, framework="numpy") as f:
        metadata = f.metadata()
        tensors = {name: f.get_tensor(name) for name in f.keys()}
    assert metadata["format"] == "bandlimit", metadata
    with open(src, "rb") as raw:
        data = raw.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__")
    assert set(header) == set(tensors), (sorted(header), sorted(tensors))
    total = 0
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        plain = np.frombuffer(data[8 + n + begin:8 + n + end], dtype="<f4").reshape(entry["shape"])
        got = tensors[name]
        assert got.dtype == np.float32 and got.shape == tuple(entry["shape"]), (name, got.dtype, got.shape)
        assert np.array_equal(got, plain), name
        assert np.isfinite(got).all(), name
        total += got.size
    print(f"safetensors {metadata.get('model')}: {len(tensors)} tensors, {total} float32 values, "
          f"metadata {metadata}; equal to the plain parse")
    save_file(tensors, dst, metadata=metadata)
    print(f"wrote {dst} with safetensors.numpy.save_file")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
