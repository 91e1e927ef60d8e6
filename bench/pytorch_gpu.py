"""The CUDA reference of `cargo xtask bench gpu`: what benches/gpu.rs measures, in PyTorch on the
machine's NVIDIA GPU.

Matmul GFLOP/s of cuBLAS SGEMM (TF32 off, so full float32 like our WGSL kernel) for 64x784x512,
784x64x512 (the left operand stored [64, 784] and read transposed, as in the MLP's weight
gradient), 1024^3 and 4096^3; and milliseconds per training step, eager mode, of the MLP
784-512-512-10 (SGD momentum 0.9, lr 0.01) and LeNet-5 (Adam, lr 0.002), batch 64, as in
src/bench_hooks.rs. Each timing queues many products or steps and ends with
`torch.cuda.synchronize()` (the steps: by reading the last loss), as ours end by waiting for the
GPU. Prints `key value` lines and `# ` lines of context; without CUDA it prints only a `# ` line
saying so, and exits 0. xtask runs it in a virtual environment outside the repository.
"""

# First: it imports torch with NumPy's warning silenced.
from pytorch_timing import lenet_workload, ms_per_call, mlp_workload, training_step

import torch  # noqa: E402

# (key, m, k, n, left operand read transposed): keys as in xtask/src/bench.rs.
GEMM_CASES = [
    ("cublas_gemm_64x784x512_gflops", 64, 784, 512, False),
    ("cublas_gemm_784x64x512_gflops", 784, 64, 512, True),
    ("cublas_gemm_1024_gflops", 1024, 1024, 1024, False),
    ("cublas_gemm_4096_gflops", 4096, 4096, 4096, False),
]
WARM_UP = 10


def gemm_gflops(m: int, k: int, n: int, transposed: bool) -> tuple[float, int]:
    """GFLOP/s of `out = op(a) @ b` into a preallocated `out`, and the products per timing."""
    a = torch.rand(k, m, device="cuda").t() if transposed else torch.rand(m, k, device="cuda")
    b = torch.rand(k, n, device="cuda")
    out = torch.empty(m, n, device="cuda")

    def product():
        torch.matmul(a, b, out=out)

    for _ in range(WARM_UP):
        product()
    ms, calls = ms_per_call(product, torch.cuda.synchronize)
    return 2.0 * m * k * n / (ms * 1e6), calls


def step_ms(workload) -> tuple[float, int]:
    """Milliseconds per training step of `workload` on the GPU, and the steps per timing."""
    step = training_step(*workload("cuda"))
    last = []

    def queued_step():
        last.append(step())
        del last[:-1]

    for _ in range(WARM_UP):
        queued_step()
    torch.cuda.synchronize()
    return ms_per_call(queued_step, lambda: last[-1].item())


def main() -> None:
    if not torch.cuda.is_available():
        print(
            f"# PyTorch {torch.__version__}: CUDA is not available on this machine (no NVIDIA "
            "GPU or driver), so the cuBLAS and PyTorch CUDA references are not measured"
        )
        return
    torch.manual_seed(1)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(
        f"# PyTorch {torch.__version__} (CUDA {torch.version.cuda}, cuDNN "
        f"{torch.backends.cudnn.version()}) on {torch.cuda.get_device_name()}: TF32 off for "
        "matmul and cuDNN; medians of 5 timings, each of as many calls as take 200 ms"
    )
    for key, m, k, n, transposed in GEMM_CASES:
        gflops, calls = gemm_gflops(m, k, n, transposed)
        print(f"# {key}: {calls} products per timing")
        print(f"{key} {gflops:.4f}")
    for key, workload in [
        ("pytorch_cuda_mlp_step_ms", mlp_workload),
        ("pytorch_cuda_lenet_step_ms", lenet_workload),
    ]:
        ms, calls = step_ms(workload)
        print(f"# {key}: eager, {calls} steps per timing, ended by reading the last loss")
        print(f"{key} {ms:.4f}")


if __name__ == "__main__":
    main()
