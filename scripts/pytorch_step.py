#!/usr/bin/env python3
"""The yardstick for issue 10: one training step of the demo's MNIST CNN in PyTorch (CPU).

The same model as the library's MnistCnn (java/lib dev.bandlimit.nn.models) (dense convolutions: PyTorch has no band-limited ones),
Adam (lr 0.002), batch 64, one fixed batch of 28x28 inputs (uniform pixels in [0, 1), random
labels, fixed seed), forward + cross-entropy + zero_grad + backward + step, on --threads
threads. It prints the median step time and images/s of --windows timing windows of --steps
steps each, after --warmup steps; the same shape of figure the JMH MnistStep benchmark gives
for our step (scripts/training-bench.sh runs both in one go).

PyTorch is a yardstick, never a dependency of the project: install the CPU wheel from the
machine image's wheel folder into a virtual environment (docs/TRAINING.md, "Step time").
"""
import argparse
import statistics
import time

import torch
from torch import nn


def mnist_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(16, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--windows", type=int, default=5)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = mnist_cnn()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.002)
    loss_fn = nn.CrossEntropyLoss()
    images = torch.rand(args.batch, 1, 28, 28)
    labels = torch.randint(0, 10, (args.batch,))

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    first = step()
    for _ in range(args.warmup):
        step()
    window_ms = []
    last = first
    for _ in range(args.windows):
        start = time.perf_counter()
        for _ in range(args.steps):
            last = step()
        window_ms.append((time.perf_counter() - start) * 1e3 / args.steps)
    if not last < first:
        raise SystemExit(f"the loss did not fall on a fixed batch: {first} -> {last}")
    median = statistics.median(window_ms)
    print(f"pytorch {torch.__version__} threads={args.threads} batch={args.batch}: "
          f"step {median:.2f} ms median of {args.windows} windows "
          f"({min(window_ms):.2f}-{max(window_ms):.2f}), {args.batch * 1e3 / median:.0f} images/s")


if __name__ == "__main__":
    main()
