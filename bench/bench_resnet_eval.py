"""bench/bench_resnet_eval.py — PyTorch's twin of bench/bench_resnet_eval.cpp.

The ResNet of bench/bench_resnet_epoch.py in evaluation: model.eval(), torch.no_grad(), a batch of
64 images in, logits out. 3 warm-up runs, then --steps timed runs; the median time per batch,
reported under both the eager and the graph case, so that the table compares each Tandem mode
with it.

    usage: python3 bench/bench_resnet_eval.py [--threads N (2)] [--steps N (60)]
"""
import statistics
import time

import torch

from bench_resnet_epoch import ResNet
from fashion_mnist import parse_args

BATCH = 64


def main():
    args = parse_args(__doc__, default_steps=60)
    if args is None:
        return
    torch.manual_seed(0)
    model = ResNet().eval()
    x = torch.randn(BATCH, 1, 28, 28)
    times = []
    with torch.no_grad():
        for i in range(3 + args.steps):
            t0 = time.perf_counter()
            model(x)
            if i >= 3:
                times.append(time.perf_counter() - t0)
    med = statistics.median(times) * 1e3
    print(f"# PyTorch {torch.__version__} ResNet 16-32-64 in evaluation, batch {BATCH}, "
          f"{torch.get_num_threads()} threads, {args.steps} runs timed")
    for mode in ("eager", "graph"):
        print(f"RESULT resnet_eval_{mode} {med:.3f} ms", flush=True)


if __name__ == "__main__":
    main()
