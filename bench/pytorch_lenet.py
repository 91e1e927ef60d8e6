"""The PyTorch reference of `cargo xtask bench`: one training step of LeNet-5 as in src/bench_hooks.rs.

C1 6@5x5 (padding 2), ReLU, max pool 2, C3 16@5x5, ReLU, max pool 2, flatten, 120, 84, 10 (ReLU
between), batch 64 of random pixels in [0, 1) and random classes, CrossEntropyLoss, Adam with
learning rate 0.002 (the Images page's default), eager mode, on the CPU with one thread (the
engine is single-threaded). Prints `pytorch_lenet_step_ms <median of 100 steps after 20
warm-up>` and `# ` lines of context. xtask runs it in a virtual environment outside the repository.
"""

# First: it imports torch with NumPy's warning silenced.
from pytorch_timing import lenet_workload, median_step_ms, single_threaded

import torch  # noqa: E402

WARM_UP, STEPS = 20, 100


def main() -> None:
    single_threaded()
    median = median_step_ms(*lenet_workload(), WARM_UP, STEPS)
    print(
        f"# PyTorch {torch.__version__} LeNet-5, {torch.get_num_threads()} thread, CPU, eager: "
        f"median of {STEPS} Adam steps after {WARM_UP} warm-up"
    )
    print(f"pytorch_lenet_step_ms {median:.4f}")


if __name__ == "__main__":
    main()
