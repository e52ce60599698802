"""bench/fashion_mnist.py — what the PyTorch twins of the epoch benchmarks share.

Their command line (--device, --threads, --steps) and the Fashion-MNIST training set, read from
the Debian package's IDX files into tensors on the chosen device, as bench/epoch_data.h does on
the Tandem side.
"""
import argparse
import gzip

import numpy as np
import torch

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An IDX file (gzip-compressed) as a uint8 NumPy array: a magic number whose last byte is the
    rank, one big-endian 32-bit size per dim, then the bytes."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def parse_args(doc, default_steps):
    """--device cpu|cuda, --threads N, --steps N (0: a whole epoch). Sets torch's thread count.
    Returns None, after saying why, when the device asked for is not there."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=default_steps)
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("# this PyTorch has no CUDA device (Debian's python3-torch is CPU-only)")
        return None
    torch.set_num_threads(args.threads)
    return args


def training_set(device, image_shape):
    """Images scaled to [0, 1] as float32, reshaped to (-1, *image_shape), and int64 labels, both
    on `device`."""
    images = read_idx(DATA + "/train-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    labels = read_idx(DATA + "/train-labels-idx1-ubyte.gz").astype(np.int64)
    images = torch.from_numpy(images).reshape(-1, *image_shape).to(device)
    return images, torch.from_numpy(labels).to(device)
