#!/usr/bin/python3
"""Tandem's checkpoint file (docs/checkpoint_format.md) in Python: read it, write it, and export
a PyTorch state_dict to it.

Why this, and not torch.save's files: a .pt file is a zip of pickled Python objects, and reading
pickle honestly means running a Python object machine in C++ -- a rabbit hole, and one that
executes what the file says. Tandem's format is a page long; here it is implemented a second time,
in Python with only struct and zlib, from that page alone. A model trained in PyTorch reaches
Tandem in one step:

    python3 scripts/tandem_checkpoint.py export model.pt model.tckpt     # torch.save(sd, "model.pt")
    # or, from Python:   tandem_checkpoint.save("model.tckpt", flatten(model.state_dict()))

and a Tandem checkpoint reaches PyTorch with load() (then model.load_state_dict(...)).

Names: a PyTorch state_dict is already name -> tensor ("0.weight", "fc1.bias"); an optimizer's is
nested ({'state': {0: {...}}, 'param_groups': [{...}]}), and flatten() gives it the dotted names
Tandem's optimizers use ("state.0.exp_avg", "param_groups.0.lr"). Python numbers become float64
scalars, bools bool scalars, tuples (betas) float64 vectors, the list of parameter indices an int64
vector. PyTorch's switches that Tandem has no twin for (amsgrad, maximize, foreach...) are dropped
when they are off and refused when they are on: Tandem would not take the same steps.
"""
import struct
import sys
import zlib

import numpy as np
import torch

MAGIC = b"TCHKPT1\0"
VERSION = 1
DTYPES = [torch.float32, torch.float64, torch.int64, torch.bool]  # the code is the position
NUMPY = {torch.float32: "<f4", torch.float64: "<f8", torch.int64: "<i8", torch.bool: "|b1"}
GENERATOR_WORDS = 312

# PyTorch optimizer options with no Tandem counterpart, and the value that means "not used".
TORCH_ONLY = {"amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
              "differentiable": False, "fused": False}


# ---- writing ----------------------------------------------------------------------------------

def _string(s):
    b = s.encode("utf-8")
    return struct.pack("<I", len(b)) + b


def _tensor(name, t):
    t = t.detach().cpu().contiguous()
    if t.dtype not in DTYPES:
        raise ValueError("%s: Tandem checkpoints hold float32, float64, int64 and bool, not %s" % (name, t.dtype))
    data = t.numpy().astype(NUMPY[t.dtype]).tobytes()  # little-endian, row-major
    return (_string(name) + struct.pack("<BI", DTYPES.index(t.dtype), t.dim()) +
            b"".join(struct.pack("<q", s) for s in t.shape) + struct.pack("<Q", len(data)) + data)


def serialize(tensors, epoch=-1, step=-1, notes=None):
    """The bytes of a checkpoint: tensors is an ordered name -> tensor mapping."""
    body = struct.pack("<qq", epoch, step)
    body += b"\0\0"  # no generator state, no loader state: those belong to a Tandem run
    notes = notes or {}
    body += struct.pack("<I", len(notes))
    for key in sorted(notes):
        body += _string(key) + _string(notes[key])
    body += struct.pack("<I", len(tensors))
    for name, t in tensors.items():
        body += _tensor(name, t)
    head = MAGIC + struct.pack("<IQ", VERSION, len(body))
    return head + body + struct.pack("<I", zlib.crc32(head + body))


def save(path, tensors, epoch=-1, step=-1, notes=None):
    with open(path, "wb") as f:
        f.write(serialize(tensors, epoch, step, notes))


def flatten(state, prefix=""):
    """A (possibly nested) PyTorch state_dict as Tandem's name -> tensor, names joined by dots."""
    out = {}
    items = state.items() if isinstance(state, dict) else enumerate(state)
    for key, value in items:
        name = "%s%s" % (prefix, key)
        if key in TORCH_ONLY and not isinstance(state, list):
            if value != TORCH_ONLY[key]:
                raise ValueError("%s = %r: Tandem's optimizers have no such option; it must be %r"
                                 % (name, value, TORCH_ONLY[key]))
            continue
        if isinstance(value, torch.Tensor):
            out[name] = value
        elif isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], dict)):
            out.update(flatten(value, name + "."))
        elif isinstance(value, bool):
            out[name] = torch.tensor(value)
        elif isinstance(value, (int, float)):
            out[name] = torch.tensor(float(value), dtype=torch.float64)
        elif isinstance(value, tuple):
            out[name] = torch.tensor([float(v) for v in value], dtype=torch.float64)
        elif isinstance(value, list):  # param_groups' params: the parameters' indices
            out[name] = torch.tensor(value, dtype=torch.int64)
        else:
            raise ValueError("%s: a %s cannot go into a Tandem checkpoint" % (name, type(value).__name__))
    return out


# ---- reading ----------------------------------------------------------------------------------

class _Reader:
    def __init__(self, data, at, end):
        self.data, self.at, self.end = data, at, end

    def take(self, n):
        if n > self.end - self.at:
            raise ValueError("corrupt checkpoint: %d bytes needed at offset %d, %d left" % (n, self.at, self.end - self.at))
        b = self.data[self.at:self.at + n]
        self.at += n
        return b

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def string(self):
        (n,) = self.unpack("<I")
        return self.take(n).decode("utf-8")


def load(path):
    """A checkpoint's contents: {'tensors': {name: tensor}, 'epoch', 'step', 'notes', ...}."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise ValueError("%s is not a Tandem checkpoint" % path)
    version, size = struct.unpack("<IQ", data[8:20])
    if version != VERSION:
        raise ValueError("%s is a version %d checkpoint; this reads version %d" % (path, version, VERSION))
    if len(data) != 20 + size + 4:
        raise ValueError("%s is truncated or has extra bytes" % path)
    (crc,) = struct.unpack("<I", data[20 + size:])
    if crc != zlib.crc32(data[:20 + size]):
        raise ValueError("%s is corrupt: its CRC-32 does not match" % path)
    r = _Reader(data, 20, 20 + size)
    out = {"tensors": {}, "notes": {}}
    out["epoch"], out["step"] = r.unpack("<qq")
    if r.unpack("<B")[0]:
        words = r.unpack("<%dQ" % GENERATOR_WORDS)
        position, has_spare, spare = r.unpack("<QBd")
        out["generator"] = {"words": words, "position": position, "has_spare": bool(has_spare), "spare": spare}
    if r.unpack("<B")[0]:
        out["loader"] = dict(zip(("seed", "next_epoch"), r.unpack("<Qq")))
    for _ in range(r.unpack("<I")[0]):
        key = r.string()
        out["notes"][key] = r.string()
    for _ in range(r.unpack("<I")[0]):
        name = r.string()
        code, rank = r.unpack("<BI")
        shape = r.unpack("<%dq" % rank)
        (nbytes,) = r.unpack("<Q")
        dtype = DTYPES[code]
        array = np.frombuffer(r.take(nbytes), dtype=NUMPY[dtype]).reshape(shape)
        out["tensors"][name] = torch.from_numpy(array.copy())
    if r.at != r.end:
        raise ValueError("corrupt checkpoint: bytes left over after the last tensor")
    return out


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "export":
        sys.exit("usage: tandem_checkpoint.py export <state_dict saved by torch.save> <output.tckpt>")
    save(sys.argv[3], flatten(torch.load(sys.argv[2], map_location="cpu")),
         notes={"exported_from": sys.argv[2], "torch": torch.__version__})
    print("wrote", sys.argv[3])
