"""bench/bench_fit_fashion.py — PyTorch's twin of bench/bench_fit_fashion.cpp: the same recipe.

An MLP 784-256-128-10 or the seed article's ConvNet (conv 1-10 5x5, max-pool, relu, conv 10-20
5x5, Dropout2d, max-pool, relu, Linear 320-50, dropout, Linear 50-10, log_softmax with NLL), Adam
lr 1e-3 annealed to 0 by CosineAnnealingLR(T_max=EPOCHS) stepped each epoch, batches of 64, shuffled each epoch, inputs normalised with (0.2860, 0.3530); the test
accuracy after each epoch. PyTorch's own default initialisation and its own shuffles: the same
recipe, not the same numbers.

    usage: python3 bench/bench_fit_fashion.py [mlp|convnet] [EPOCHS (10)]   (--threads via OMP_NUM_THREADS)
"""
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def images(name):
    x = torch.from_numpy(read_idx(name).astype(np.float32) / 255.0)
    return ((x - 0.2860) / 0.3530).reshape(-1, 1, 28, 28)


class Net(nn.Module):  # the seed article's
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        return F.log_softmax(self.fc2(x), dim=1)


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "mlp"
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    torch.manual_seed(0)
    x, y = images("train-images-idx3-ubyte.gz"), torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    xt, yt = images("t10k-images-idx3-ubyte.gz"), torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))
    if which == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
        criterion = F.cross_entropy
    else:
        model = Net()
        criterion = F.nll_loss
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64, shuffle=True)
    print("%s on Fashion-MNIST, PyTorch %s, %d threads: Adam 1e-3 (cosine to 0), batch 64, %d epochs"
          % (which, torch.__version__, torch.get_num_threads(), epochs))
    t0 = time.time()
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        sched.step()
        model.eval()
        with torch.no_grad():
            acc = (model(xt).argmax(1) == yt).float().mean().item()
        print("epoch %2d   loss %.6f   test accuracy %.2f%%   (%.0f s)" % (epoch + 1, total / len(x), 100 * acc, time.time() - t0))
    print("time: %.0f s" % (time.time() - t0))


if __name__ == "__main__":
    main()
