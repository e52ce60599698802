"""bench/bench_matmul.py — PyTorch's torch.mm on the same problem as bench/bench_matmul.cpp.

float32 square matrices; one warm-up call, then enough timed calls to fill at least --min-time
seconds (at least 5); the median time per call; GFLOP/s = 2·n³ / seconds / 1e9. Prints
`RESULT <n> <GFLOP/s> GFLOP/s`, the line format bench/run_all.sh joins into its table.

    usage: python3 bench/bench_matmul.py [--threads N (2)] [--min-time SECONDS (0.5)] [SIZE ...]
"""
import argparse
import statistics
import time

import torch


def seconds_of_one_call(a, b):
    t0 = time.perf_counter()
    c = torch.mm(a, b)
    t1 = time.perf_counter()
    del c
    return t1 - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--min-time", type=float, default=0.5)
    p.add_argument("sizes", type=int, nargs="*", default=[256, 1024, 2048])
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"# PyTorch {torch.__version__} torch.mm, float32, {torch.get_num_threads()} threads")
    for n in args.sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        first = seconds_of_one_call(a, b)  # warm-up
        reps = max(5, int(args.min_time / max(first, 1e-6)) + 1)
        t = statistics.median(seconds_of_one_call(a, b) for _ in range(reps))
        print(f"# n={n} reps={reps} median={t:.6f} s")
        print(f"RESULT {n} {2.0 * n**3 / t / 1e9:.2f} GFLOP/s", flush=True)


if __name__ == "__main__":
    main()
