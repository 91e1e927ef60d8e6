//! The reference implementations of `cargo xtask bench`, installed on first use outside the
//! repository (in `~/.cache/neural-playground/`): PyTorch in a Python virtual environment, and
//! TensorFlow.js with its wasm backend from npm, served with the pages `bench/tfjs_mlp.html`
//! (`index.html`), `bench/tfjs_lenet.html` (`lenet.html`) and `bench/tfjs_recurrent.html`
//! (`recurrent.html`).

use crate::command::{Result, exists, output, root, run};
use std::path::PathBuf;
use std::process::Command;

const TFJS_VERSION: &str = "4.22.0";

/// Files of the tfjs page: (path under `node_modules/@tensorflow/`, name in the page's folder).
const TFJS_FILES: [(&str, &str); 5] = [
    ("tfjs/dist/tf.min.js", "tf.min.js"),
    (
        "tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
        "tf-backend-wasm.min.js",
    ),
    (
        "tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
        "tfjs-backend-wasm.wasm",
    ),
    (
        "tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
        "tfjs-backend-wasm-simd.wasm",
    ),
    (
        "tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm",
        "tfjs-backend-wasm-threaded-simd.wasm",
    ),
];

/// `$XDG_CACHE_HOME/neural-playground`, or `~/.cache/neural-playground`.
pub fn cache_dir() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").ok_or("HOME is not set")?).join(".cache"),
    };
    Ok(base.join("neural-playground"))
}

/// The Python of a virtual environment with torch, safetensors and numpy (which safetensors'
/// `save_file` needs), creating it and installing them (several GB from PyPI) when missing.
pub fn pytorch_python() -> Result<PathBuf> {
    let venv = cache_dir()?.join("bench-venv");
    let python = venv.join("bin/python");
    let imports = "import torch, safetensors.torch, numpy";
    let has_torch = || output(Command::new(&python).args(["-c", imports])).is_some();
    if has_torch() {
        return Ok(python);
    }
    if !exists("python3") {
        return Err("python3 is not installed".into());
    }
    if !python.is_file() {
        eprintln!(
            "Creating a Python environment for the PyTorch reference in {}",
            venv.display()
        );
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))
            .map_err(|error| format!("cannot create a virtual environment ({error})"))?;
    }
    eprintln!(
        "Installing torch from PyPI (about 5 GB with its CUDA wheels; without a GPU it runs on \
         the CPU)"
    );
    let packages = ["torch", "safetensors", "numpy"];
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet"])
        .args(packages))
    .map_err(|error| format!("cannot install torch ({error})"))?;
    if has_torch() {
        Ok(python)
    } else {
        Err("torch, safetensors and numpy were installed but cannot be imported".into())
    }
}

/// The PyTorch reference scripts under `bench/`: the MLP step, LeNet-5's (an MNIST figure), and
/// the GPU figures on CUDA (cuBLAS GEMM, both steps).
pub const PYTORCH_MLP: &str = "pytorch_mlp.py";
pub const PYTORCH_LENET: &str = "pytorch_lenet.py";
pub const PYTORCH_GPU: &str = "pytorch_gpu.py";
/// The recurrent cells' training steps (`cargo xtask bench seq`).
pub const PYTORCH_RECURRENT: &str = "pytorch_recurrent.py";

/// A command running the PyTorch reference `script` (a file under `bench/`) with `python`.
pub fn pytorch_command(python: &PathBuf, script: &str) -> Command {
    let mut command = Command::new(python);
    command.arg(root().join("bench").join(script));
    command
}

/// A fresh folder holding the tfjs benchmark pages (the MLP and grid page as `index.html`, the
/// LeNet-5 page as `lenet.html`, the recurrent layers' page as `recurrent.html`) and the tfjs
/// files they load, installing TensorFlow.js from npm when missing. The caller removes the
/// folder.
pub fn tfjs_page() -> Result<PathBuf> {
    let packages = cache_dir()?.join("tfjs");
    let modules = packages.join("node_modules/@tensorflow");
    let installed = || {
        TFJS_FILES
            .iter()
            .all(|(path, _)| modules.join(path).is_file())
    };
    if !installed() {
        if !exists("npm") {
            return Err("npm is not installed".into());
        }
        std::fs::create_dir_all(&packages)
            .map_err(|error| format!("cannot create {}: {error}", packages.display()))?;
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&packages)
            .arg(format!("@tensorflow/tfjs@{TFJS_VERSION}"))
            .arg(format!("@tensorflow/tfjs-backend-wasm@{TFJS_VERSION}")))
        .map_err(|error| format!("cannot install TensorFlow.js ({error})"))?;
        if !installed() {
            return Err("npm installed TensorFlow.js without the files the page needs".into());
        }
    }
    let page = std::env::temp_dir().join(format!(
        "neural-playground-tfjs-bench-{}",
        std::process::id()
    ));
    let copy = |from: PathBuf, to: &str| {
        std::fs::copy(&from, page.join(to))
            .map(|_| ())
            .map_err(|error| format!("cannot copy {}: {error}", from.display()))
    };
    let _ = std::fs::remove_dir_all(&page);
    std::fs::create_dir_all(&page)
        .map_err(|error| format!("cannot create {}: {error}", page.display()))?;
    copy(root().join("bench/tfjs_mlp.html"), "index.html")?;
    copy(root().join("bench/tfjs_lenet.html"), "lenet.html")?;
    copy(root().join("bench/tfjs_recurrent.html"), "recurrent.html")?;
    for (path, name) in TFJS_FILES {
        copy(modules.join(path), name)?;
    }
    Ok(page)
}
