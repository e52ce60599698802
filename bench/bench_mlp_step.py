"""bench/bench_mlp_step.py — PyTorch's training step of the MLP in bench/bench_mlp_step.cpp.

MLP 784-256-128-10 with ReLU (parameters as plain tensors, x @ W + b as in the Tandem bench),
F.cross_entropy, loss.backward(), and the SGD update torch.optim.SGD makes, by hand under no_grad:
p.sub_(p.grad, alpha=lr); p.grad = None. Same method as the C++ side: 20 warm-up steps, then
steps timed one by one for at least --min-time seconds (at least --min-reps steps), median step
time. Prints `RESULT step_b<B>_pytorch <ms> ms`, the line format bench/run_all.sh joins.

    usage: python3 bench/bench_mlp_step.py [--threads N (2)] [--min-time S (1)] [--min-reps N (100)]
                                          [BATCH ...(1 64)]
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F

LR = 0.01


def initial_weights():
    torch.manual_seed(0)
    p = []
    for i, o in [(784, 256), (256, 128), (128, 10)]:
        bound = 1.0 / math.sqrt(i)  # nn.Linear's default
        p.append(((torch.rand(i, o) * 2 - 1) * bound).requires_grad_())
        p.append(((torch.rand(o) * 2 - 1) * bound).requires_grad_())
    return p


def step(p, x, y):
    h1 = torch.relu(x @ p[0] + p[1])
    h2 = torch.relu(h1 @ p[2] + p[3])
    loss = F.cross_entropy(h2 @ p[4] + p[5], y)
    loss.backward()
    with torch.no_grad():
        for w in p:
            w.sub_(w.grad, alpha=LR)
            w.grad = None
    return loss.item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--min-reps", type=int, default=100)
    ap.add_argument("batches", type=int, nargs="*", default=[1, 64])
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    print(f"# PyTorch {torch.__version__} MLP training step, float32, "
          f"{torch.get_num_threads()} threads")
    for b in args.batches:
        p = initial_weights()
        torch.manual_seed(1)
        x = torch.randn(b, 784)
        y = torch.randint(0, 10, (b,))
        for _ in range(20):
            step(p, x, y)
        times, total = [], 0.0
        while total < args.min_time or len(times) < args.min_reps:
            t0 = time.perf_counter()
            step(p, x, y)
            dt = time.perf_counter() - t0
            times.append(dt)
            total += dt
        print(f"# batch {b}: {len(times)} reps")
        print(f"RESULT step_b{b}_pytorch {statistics.median(times) * 1e3:.4g} ms", flush=True)


if __name__ == "__main__":
    main()
