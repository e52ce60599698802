"""bench/bench_dataloader.py — PyTorch's twin of bench/bench_dataloader.cpp (its part 1).

One epoch of the 60000 Fashion-MNIST training images through torch.utils.data.DataLoader,
batch 64, shuffle=True, each image normalised in __getitem__ with torchvision's
transforms.Normalize (as torchvision.datasets.FashionMNIST(transform=...) does), with
num_workers 0 and 2; one warm-up epoch first, then one timed. Prints
`RESULT loader_workers_<n> <images/s> img/s`.

    usage: python3 bench/bench_dataloader.py [--threads N (2)] [--steps N (ignored)]
"""
import time

import torch
from torch.utils.data import DataLoader, Dataset

from fashion_mnist import parse_args, training_set

try:
    from torchvision.transforms import Normalize
except ImportError:  # the same arithmetic, without torchvision
    class Normalize:
        def __init__(self, mean, std):
            self.mean = torch.tensor(mean).view(-1, 1, 1)
            self.std = torch.tensor(std).view(-1, 1, 1)

        def __call__(self, x):
            return (x - self.mean) / self.std


class FashionMNIST(Dataset):
    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(self.images[i]), self.labels[i]


def throughput(loader):
    t0 = time.perf_counter()
    n = 0
    for x, _ in loader:
        n += x.shape[0]
    return n / (time.perf_counter() - t0)


def main():
    args = parse_args(__doc__, default_steps=0)
    if args is None:
        return
    images, labels = training_set("cpu", (1, 28, 28))
    ds = FashionMNIST(images, labels, Normalize((0.2860,), (0.3530,)))
    print(f"# PyTorch {torch.__version__} DataLoader on Fashion-MNIST ({len(ds)} images), batch 64, "
          f"shuffle, Normalize, {torch.get_num_threads()} threads")
    for workers in (0, 2):
        loader = DataLoader(ds, batch_size=64, shuffle=True, num_workers=workers)
        throughput(loader)
        print(f"RESULT loader_workers_{workers} {throughput(loader):.0f} img/s", flush=True)


if __name__ == "__main__":
    main()
