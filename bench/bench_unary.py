"""bench/bench_unary.py — PyTorch on the same problem as bench/bench_unary.cpp.

exp, log, tanh, sigmoid, softmax and log_softmax (dim 1) of one float32 1024 x 1024 matrix
(standard normal; log gets |x| + 0.1); one warm-up call, then --reps timed calls (30); the median
time per call. Prints `RESULT <op> <ms> ms`, the line format bench/run_all.sh joins into its table.

    usage: python3 bench/bench_unary.py [--threads N (2)] [--reps R (30)] [--size N (1024)]
"""
import argparse
import statistics
import time

import torch


def median_ms(op, reps):
    op()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        y = op()
        t1 = time.perf_counter()
        del y
        times.append((t1 - t0) * 1e3)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--size", type=int, default=1024)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = args.size
    print(f"# PyTorch {torch.__version__} unary ops, float32 {n} x {n}, "
          f"{torch.get_num_threads()} threads, median of {args.reps}")
    x = torch.randn(n, n)
    pos = x.abs() + 0.1
    cases = [
        ("exp", lambda: torch.exp(x)),
        ("log", lambda: torch.log(pos)),
        ("tanh", lambda: torch.tanh(x)),
        ("sigmoid", lambda: torch.sigmoid(x)),
        ("softmax", lambda: torch.softmax(x, 1)),
        ("log_softmax", lambda: torch.log_softmax(x, 1)),
    ]
    for name, op in cases:
        print(f"RESULT {name} {median_ms(op, args.reps):.3f} ms", flush=True)


if __name__ == "__main__":
    main()
