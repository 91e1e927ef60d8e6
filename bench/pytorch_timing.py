"""What the PyTorch references of `cargo xtask bench` share: torch imported quietly, one thread,
and the median time of a training step."""

import statistics
import time
import warnings

# torch warns on import when NumPy is missing; the benchmarks do not need NumPy.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402


def single_threaded() -> None:
    """One thread (the engine is single-threaded) and a fixed seed."""
    torch.set_num_threads(1)
    torch.manual_seed(1)


def median_step_ms(model, optimizer, inputs, labels, warm_up: int, steps: int) -> float:
    """Median milliseconds of `steps` cross-entropy training steps after `warm_up` untimed ones."""
    loss_function = torch.nn.CrossEntropyLoss()

    def step() -> None:
        optimizer.zero_grad()
        loss = loss_function(model(inputs), labels)
        loss.backward()
        optimizer.step()
        loss.item()

    for _ in range(warm_up):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)
