"""What the PyTorch references of `cargo xtask bench` share: torch imported quietly, the two
training workloads of src/bench_hooks.rs, and the timing of their steps (one at a time on the
CPU, queued back to back on a GPU)."""

import statistics
import time
import warnings

# torch warns on import when NumPy is missing; the benchmarks do not need NumPy.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402
from torch import nn  # noqa: E402

BATCH = 64


def single_threaded() -> None:
    """One thread (the engine is single-threaded) and a fixed seed."""
    torch.set_num_threads(1)
    torch.manual_seed(1)


def mlp_workload(device: str = "cpu"):
    """784-512-512-10 with ReLU (nn.Linear), SGD with momentum 0.9 and learning rate 0.01, and a
    batch of 64 random pixel rows in [0, 1) with random classes: (model, optimizer, inputs,
    labels) on `device`."""
    model = nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
    ).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    inputs = torch.rand(BATCH, 784, device=device)
    labels = torch.randint(0, 10, (BATCH,), device=device)
    return model, optimizer, inputs, labels


def lenet_workload(device: str = "cpu"):
    """LeNet-5 as the Images page's default: C1 6@5x5 (padding 2), ReLU, max pool 2, C3 16@5x5,
    ReLU, max pool 2, flatten, 120, 84, 10 (ReLU between); Adam with learning rate 0.002; a batch
    of 64 random 28x28 images in [0, 1) with random classes: (model, optimizer, inputs, labels)
    on `device`."""
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.002)
    inputs = torch.rand(BATCH, 1, 28, 28, device=device)
    labels = torch.randint(0, 10, (BATCH,), device=device)
    return model, optimizer, inputs, labels


def training_step(model, optimizer, inputs, labels):
    """One cross-entropy training step as a function returning the loss tensor (not read)."""
    loss_function = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss = loss_function(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss

    return step


def median_step_ms(model, optimizer, inputs, labels, warm_up: int, steps: int) -> float:
    """Median milliseconds of `steps` cross-entropy training steps after `warm_up` untimed ones,
    each step's loss read (as the CPU engine returns it)."""
    step = training_step(model, optimizer, inputs, labels)
    for _ in range(warm_up):
        step().item()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step().item()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def ms_per_call(work, wait, timing_ms: float = 200.0, timings: int = 5) -> tuple[float, int]:
    """Milliseconds per call of `work()` on a device that queues work: `wait()` blocks until the
    device is done. Calls per timing double from 1 until a timing lasts `timing_ms`; returns the
    median of `timings` timings per call and the calls per timing. Call after a warm-up."""
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            work()
        wait()
        elapsed = (time.perf_counter() - start) * 1e3
        if elapsed >= timing_ms or calls >= 1 << 16:
            break
        calls *= 2
    times = [elapsed]
    for _ in range(timings - 1):
        start = time.perf_counter()
        for _ in range(calls):
            work()
        wait()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times) / calls, calls
