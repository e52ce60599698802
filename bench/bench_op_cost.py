"""bench/bench_op_cost.py — PyTorch on the same chains as bench/bench_op_cost.cpp.

One op call on a [1, 10] float32 tensor, in chains of 64: -y under no_grad; -y with grad on and
backward through the chain (sum()'s backward timed alone and taken off); the same with a view
(y.reshape); w.sub_(g, alpha) under no_grad. The median per op, in ns, from Python: the
interpreter's share of each call is included, as it is in every PyTorch training loop.

    usage: python3 bench/bench_op_cost.py [--threads N (1)] [--reps N (3000)]
"""
import argparse
import statistics
import time

import torch

CHAIN = 64


def ns_per_op(f, reps, ops):
    for _ in range(100):
        f()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1e9)
    return statistics.median(times) / ops


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=3000)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(1, 10, requires_grad=True)
    g = torch.randn(1, 10)

    def tail():
        x.sum().backward()
        x.grad = None

    def chain(link):
        def run():
            y = x
            for _ in range(CHAIN):
                y = link(y)
            y.sum().backward()
            x.grad = None
        return run

    def no_grad_chain():
        with torch.no_grad():
            y = x
            for _ in range(CHAIN):
                y = -y

    def inplace():
        with torch.no_grad():
            for _ in range(CHAIN):
                x.sub_(g, alpha=1e-9)

    t = ns_per_op(tail, args.reps, 1)
    no_grad_op = ns_per_op(no_grad_chain, args.reps, CHAIN)
    recorded = (ns_per_op(chain(lambda y: -y), args.reps, 1) - t) / CHAIN
    view = (ns_per_op(chain(lambda y: y.reshape(10, 1).reshape(1, 10)), args.reps, 1) - t) / (2 * CHAIN)
    update = ns_per_op(inplace, args.reps, CHAIN)
    print(f"# PyTorch {torch.__version__}: one op call on a [1, 10] float32 tensor, "
          f"{torch.get_num_threads()} thread(s), chains of {CHAIN}, median of {args.reps}")
    print(f"RESULT op_no_grad {no_grad_op:.1f} ns")
    print(f"RESULT op_forward_backward {recorded:.1f} ns")
    print(f"RESULT view_forward_backward {view:.1f} ns")
    print(f"RESULT inplace_no_grad {update:.1f} ns")


if __name__ == "__main__":
    main()
