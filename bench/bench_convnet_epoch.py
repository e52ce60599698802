"""bench/bench_convnet_epoch.py — PyTorch's twin of bench/bench_convnet_epoch.cpp.

The seed article's ConvNet (nn.Conv2d 1-10-20 with 5x5 kernels, max_pool2d, Dropout2d, Linear
320-50-10, log_softmax) trained with F.nll_loss and torch.optim.SGD (lr 0.01; the Tandem side uses optim::SGD)
on Fashion-MNIST, batches of 64 in order. Parameters are
plain tensors with x @ W + b, as on the Tandem side. 10 warm-up steps, then --steps timed steps;
prints the median step time and the epoch time at 938 steps (with one thread also the median CPU
time per step, time.process_time()). PyTorch's eager step is reported under both the eager and the
graph case, so that the table compares each Tandem mode with it.

With --device cuda, the network and the data live on the GPU (without a CUDA build of PyTorch --
Debian's is CPU-only -- it says so and prints nothing to join).

    usage: python3 bench/bench_convnet_epoch.py [--device cpu|cuda] [--threads N (2)] [--steps N (300; 0: an epoch)]
"""
import math
import statistics
import time

import torch
import torch.nn.functional as F

from fashion_mnist import parse_args, training_set

BATCH = 64
LR = 0.01


def init(shape, fan_in):
    bound = 1.0 / math.sqrt(fan_in)
    return ((torch.rand(shape) * 2 - 1) * bound).requires_grad_()


def main():
    args = parse_args(__doc__, default_steps=300)
    if args is None:
        return
    dev = torch.device(args.device)
    images, labels = training_set(dev, (1, 28, 28))
    per_epoch = images.shape[0] // BATCH
    steps = per_epoch if args.steps <= 0 or args.steps > per_epoch else args.steps

    torch.manual_seed(0)
    p = [init((10, 1, 5, 5), 25), init((10,), 25), init((20, 10, 5, 5), 250), init((20,), 250),
         init((320, 50), 320), init((50,), 320), init((50, 10), 50), init((10,), 50)]
    p = [w.detach().to(dev).requires_grad_() for w in p]
    opt = torch.optim.SGD(p, lr=LR)

    def step(x, y):
        opt.zero_grad()
        h = F.relu(F.max_pool2d(F.conv2d(x, p[0], p[1]), 2))
        h = F.relu(F.max_pool2d(F.dropout2d(F.conv2d(h, p[2], p[3]), 0.5), 2))
        h = F.dropout(F.relu(h.reshape(-1, 320) @ p[4] + p[5]), 0.5)
        loss = F.nll_loss(F.log_softmax(h @ p[6] + p[7], 1), y)
        loss.backward()
        opt.step()
        return loss.item()

    def batch(i):
        s = (i % per_epoch) * BATCH
        return images[s:s + BATCH], labels[s:s + BATCH]

    for i in range(10):
        step(*batch(i))
    times, cpu, loss = [], [], 0.0
    for i in range(steps):
        x, y = batch(10 + i)
        t0, c0 = time.perf_counter(), time.process_time()
        loss = step(x, y)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    med, med_cpu = statistics.median(times) * 1e3, statistics.median(cpu) * 1e3
    print(f"# PyTorch {torch.__version__} seed ConvNet, batch {BATCH}, on {args.device}, {torch.get_num_threads()} threads, "
          f"{steps} steps timed, last loss {loss:.3f}")
    for mode in ("eager", "graph") if args.device == "cpu" else ("eager",):
        print(f"RESULT convnet_step_{mode} {med:.3f} ms")
        print(f"RESULT convnet_epoch_{mode} {med * per_epoch / 1e3:.2f} s")
        if torch.get_num_threads() == 1:
            print(f"RESULT convnet_step_cpu_{mode} {med_cpu:.3f} ms", flush=True)

if __name__ == "__main__":
    main()
