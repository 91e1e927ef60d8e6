"""The PyTorch reference of `cargo xtask bench`: one training step of the MLP in src/bench_hooks.rs.

784-512-512-10 with ReLU (nn.Linear), batch 64, CrossEntropyLoss, SGD with momentum 0.9 and
learning rate 0.01, eager mode, on the CPU with one thread (the engine is single-threaded).
Prints `pytorch_mlp_step_ms <median of 50 steps after 10 warm-up>` and `# ` lines of context.
xtask runs it in a virtual environment outside the repository.
"""

# First: it imports torch with NumPy's warning silenced.
from pytorch_timing import median_step_ms, mlp_workload, single_threaded

import torch  # noqa: E402

WARM_UP, STEPS = 10, 50


def main() -> None:
    single_threaded()
    median = median_step_ms(*mlp_workload(), WARM_UP, STEPS)
    print(f"# PyTorch {torch.__version__}, {torch.get_num_threads()} thread, CPU, eager")
    print(f"pytorch_mlp_step_ms {median:.4f}")


if __name__ == "__main__":
    main()
