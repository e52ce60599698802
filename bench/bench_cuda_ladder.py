"""bench/bench_cuda_ladder.py — torch.mm on the GPU, the reference for bench_cuda_ladder.cpp.

float32 n x n · n x n on the first CUDA device, n = 1024, 2048, 4096 by default; one warm-up,
then calls until 0.5 s (at least 5), each followed by torch.cuda.synchronize(); the median as
GFLOP/s. Prints `RESULT matmul_op_<n> <GFLOP/s> GFLOP/s` so that run_all.sh joins it with
Tandem's matmul op. Without a CUDA build of PyTorch (Debian's is CPU-only) it says so and prints
nothing to join.

    usage: python3 bench/bench_cuda_ladder.py [SIZE ...]
"""
import statistics
import sys
import time

import torch


def main():
    sizes = [int(a) for a in sys.argv[1:] if not a.startswith("--") and a.isdigit()] or [1024, 2048, 4096]
    if not torch.cuda.is_available():
        print("# bench_cuda_ladder.py: this PyTorch has no CUDA device (Debian's python3-torch is CPU-only)")
        return
    print(f"# PyTorch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    for n in sizes:
        torch.manual_seed(0)
        a = torch.randn(n, n, device="cuda")
        b = torch.randn(n, n, device="cuda")
        torch.mm(a, b)
        torch.cuda.synchronize()
        times, total = [], 0.0
        while total < 0.5 or len(times) < 5:
            t0 = time.perf_counter()
            torch.mm(a, b)
            torch.cuda.synchronize()
            dt = time.perf_counter() - t0
            times.append(dt)
            total += dt
        rate = 2.0 * n ** 3 / statistics.median(times) / 1e9
        print(f"RESULT matmul_op_{n} {rate:.1f} GFLOP/s", flush=True)


if __name__ == "__main__":
    main()
