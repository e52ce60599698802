"""bench/bench_resnet_epoch.py — PyTorch's twin of bench/bench_resnet_epoch.cpp.

The same ResNet (torchvision's BasicBlock; a 3x3 stem with BatchNorm2d, three stages of one block
with 16, 32, 64 channels, AdaptiveAvgPool2d(1), Linear 64-10), F.cross_entropy and torch.optim.SGD
(lr 0.05) on Fashion-MNIST, batches of 64 in order. 3 warm-up steps, then --steps timed steps; the
median step time and the epoch time at 937 steps (with one thread also the median CPU time per
step, time.process_time()). PyTorch's eager step is reported under both the
eager and the graph case, so that the table compares each Tandem mode with it.

    usage: python3 bench/bench_resnet_epoch.py [--threads N (2)] [--steps N (40)]
"""
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from fashion_mnist import parse_args, training_set

BATCH = 64
LR = 0.05


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, widths=(16, 32, 64), num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.layer1 = BasicBlock(widths[0], widths[0])
        self.layer2 = BasicBlock(widths[0], widths[1], stride=2)
        self.layer3 = BasicBlock(widths[1], widths[2], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[2], num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def main():
    args = parse_args(__doc__, default_steps=40)
    if args is None:
        return
    images, labels = training_set(torch.device("cpu"), (1, 28, 28))
    per_epoch = images.shape[0] // BATCH
    torch.manual_seed(0)
    model = ResNet()
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step(i):
        s = (i % per_epoch) * BATCH
        x, y = images[s:s + BATCH], labels[s:s + BATCH]
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for i in range(3):
        step(i)
    times, cpu, loss = [], [], 0.0
    for i in range(args.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = step(3 + i)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    med = statistics.median(times) * 1e3
    med_cpu = statistics.median(cpu) * 1e3
    print(f"# PyTorch {torch.__version__} ResNet 16-32-64, batch {BATCH}, {torch.get_num_threads()} threads, "
          f"{args.steps} steps timed, last loss {loss:.3f}")
    for mode in ("eager", "graph"):
        print(f"RESULT resnet_step_{mode} {med:.2f} ms")
        print(f"RESULT resnet_epoch_{mode} {med * per_epoch / 1e3:.1f} s")
        if torch.get_num_threads() == 1:
            print(f"RESULT resnet_step_cpu_{mode} {med_cpu:.2f} ms", flush=True)


if __name__ == "__main__":
    main()
