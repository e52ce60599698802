"""bench/bench_mlp_epoch.py — PyTorch's twin of bench/bench_mlp_epoch.cpp.

The MLP 784-256-128-10 (relu, F.cross_entropy) on Fashion-MNIST, batches of 64 in order,
torch.optim.SGD(lr=0.1), one epoch timed whole with the data already on the device; the loss is
read back at the end (which waits for the GPU). Parameters are plain tensors with x @ W + b, as on
the Tandem side. Prints `RESULT mlp_epoch_eager <s> s` (PyTorch has no graph mode to twin
Tandem's graph line). On --device cuda without a CUDA build of PyTorch (Debian's is CPU-only), it
says so and prints nothing to join.

    usage: python3 bench/bench_mlp_epoch.py [--device cpu|cuda] [--threads N (2)] [--steps N (0: an epoch)]
"""
import math
import time

import torch
import torch.nn.functional as F

from fashion_mnist import parse_args, training_set

BATCH = 64
LR = 0.1


def main():
    args = parse_args(__doc__, default_steps=0)
    if args is None:
        return
    dev = torch.device(args.device)
    images, labels = training_set(dev, (784,))
    per_epoch = images.shape[0] // BATCH
    steps = per_epoch if args.steps <= 0 or args.steps > per_epoch else args.steps

    torch.manual_seed(0)
    p = []
    for fan_in, fan_out in [(784, 256), (256, 128), (128, 10)]:
        bound = 1.0 / math.sqrt(fan_in)
        p.append(((torch.rand(fan_in, fan_out) * 2 - 1) * bound).to(dev).requires_grad_())
        p.append(((torch.rand(fan_out) * 2 - 1) * bound).to(dev).requires_grad_())
    opt = torch.optim.SGD(p, lr=LR)

    def step(i):
        s = (i % per_epoch) * BATCH
        x, y = images[s:s + BATCH], labels[s:s + BATCH]
        opt.zero_grad()
        h = F.relu(x @ p[0] + p[1])
        h = F.relu(h @ p[2] + p[3])
        loss = F.cross_entropy(h @ p[4] + p[5], y)
        loss.backward()
        opt.step()
        return loss

    for i in range(5):
        step(i).item()
    t0 = time.perf_counter()
    for i in range(steps):
        loss = step(i)
    last = loss.item()
    elapsed = time.perf_counter() - t0
    print(f"# PyTorch {torch.__version__} MLP on {args.device}, {torch.get_num_threads()} threads, "
          f"{steps} steps, last loss {last:.4f}")
    print(f"RESULT mlp_epoch_eager {elapsed * per_epoch / steps:.3f} s", flush=True)


if __name__ == "__main__":
    main()
