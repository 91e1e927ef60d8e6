//! Installs the tools the other commands need, once per machine.
//!
//! On Debian as root, system packages come through apt; elsewhere the exact command to run is
//! printed instead. Rust tools come through `cargo install` at pinned versions.

use crate::command::{Result, cargo, exists, output, root, run};
use std::process::Command;

const TEST_PACKAGES: [(&str, &str); 3] = [
    ("chromium", "chromium"),
    ("chromedriver", "chromium-driver"),
    ("vulkaninfo", "mesa-vulkan-drivers vulkan-tools"),
];

/// What `serve` and `build` need.
pub fn for_build() -> Result {
    wasm_target()?;
    wasm_bindgen()
}

/// What `test` and `bench` need.
pub fn for_tests() -> Result {
    for_build()?;
    debian_packages(&TEST_PACKAGES)?;
    // `vulkaninfo` (vulkan-tools) can be there without the drivers: the GPU parity tests need
    // lavapipe itself.
    if cfg!(target_os = "linux") && !lavapipe_icd().exists() {
        apt_install(&["mesa-vulkan-drivers"])?;
    }
    // PyTorch for the exported scripts' test goes into a virtual environment, which Debian's
    // python3 makes only with python3-venv.
    let makes_venvs = output(Command::new("python3").args(["-c", "import venv, ensurepip"]));
    if makes_venvs.is_none() {
        apt_install(&["python3", "python3-venv"])?;
    }
    Ok(())
}

/// The Vulkan driver manifest of lavapipe (Mesa's software Vulkan) as Debian installs it.
pub fn lavapipe_icd() -> std::path::PathBuf {
    let arch = std::env::consts::ARCH;
    format!("/usr/share/vulkan/icd.d/lvp_icd.{arch}.json").into()
}

/// Gives `command` a private `XDG_RUNTIME_DIR` when there is none: Mesa (lavapipe) warns on every
/// start without one, and it must be private to the user.
pub fn private_runtime_dir(command: &mut Command) -> Result {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return Ok(());
    }
    let runtime_dir = root().join("target").join("xdg-runtime");
    std::fs::create_dir_all(&runtime_dir)
        .map_err(|error| format!("cannot create {}: {error}", runtime_dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|error| format!("cannot restrict {}: {error}", runtime_dir.display()))?;
    }
    command.env("XDG_RUNTIME_DIR", runtime_dir);
    Ok(())
}

pub fn everything() -> Result {
    for_tests()
}

fn wasm_target() -> Result {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]));
    if installed.is_some_and(|targets| targets.contains("wasm32-unknown-unknown")) {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// Debian packages: (a program that proves it is installed, package).
pub fn debian_packages(packages: &[(&str, &str)]) -> Result {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(program, _)| !exists(program))
        .flat_map(|(_, package)| package.split(' '))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
}

/// Debian packages of C libraries: (a header that proves it is installed, package).
pub fn apt_headers(packages: &[(&str, &str)]) -> Result {
    if !cfg!(target_os = "linux") {
        return Ok(());
    }
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(header, _)| !std::path::Path::new(header).exists())
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
}

fn apt_install(missing: &[&str]) -> Result {
    let is_root = output(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    if !(is_root && exists("apt-get")) {
        return Err(format!(
            "missing tools; install them with: sudo apt-get install {}",
            missing.join(" ")
        ));
    }
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// wasm-bindgen-cli must equal the wasm-bindgen version in Cargo.lock. It brings both programs:
/// `wasm-bindgen` for the build (wasm_builds.rs), `wasm-bindgen-test-runner` for `tests/web_gpu_parity.rs`.
fn wasm_bindgen() -> Result {
    let wanted = locked_version("wasm-bindgen")?;
    let at_wanted_version = |program: &str| {
        let installed = output(Command::new(program).arg("--version")).unwrap_or_default();
        installed.split_whitespace().nth(1) == Some(wanted.as_str())
    };
    if at_wanted_version("wasm-bindgen") && at_wanted_version("wasm-bindgen-test-runner") {
        return Ok(());
    }
    // Not --locked: one of its locked dependencies was yanked.
    run(cargo().args(["install", "wasm-bindgen-cli", "--version", &wanted]))
}

/// The version of a package as recorded in Cargo.lock.
fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|error| format!("cannot read Cargo.lock: {error}"))?;
    let header = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&header)
        .ok_or(format!("{package} is not in Cargo.lock"))?
        + header.len();
    let end = lock[start..].find('"').ok_or("Cargo.lock is malformed")? + start;
    Ok(lock[start..end].to_string())
}
