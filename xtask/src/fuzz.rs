//! `cargo xtask fuzz [target] [seconds]`: runs the fuzz targets of `fuzz/` with honggfuzz
//! (stable Rust, in-process and persistent, with a time limit per run), each from its committed
//! seeds (`fuzz/seeds/<target>`) and the corpus grown by earlier runs
//! (`fuzz/hfuzz_workspace/<target>/input`, not committed), and prints one line per target:
//! executions, speed, crashes, hangs, peak memory, branch coverage. A crash, a hang (an input
//! over [`TIMEOUT_S`]) or an allocation past [`RSS_LIMIT_MB`] fails the command and names the
//! saved input, to be copied into `fuzz/regressions/<target>/` once fixed.

use crate::command::{Result, cargo, exists, output, root};
use crate::setup;
use std::path::{Path, PathBuf};

/// The fuzz targets (`fuzz/targets/*.rs`, described in `fuzz/src/lib.rs`).
pub const TARGETS: [&str; 5] = ["link", "idx", "model_file", "saved_work", "points_csv"];
const HONGGFUZZ_VERSION: &str = "0.5.62";
/// An input taking longer than this is a hang.
const TIMEOUT_S: u32 = 10;
/// An input making the process hold more than this is an unbounded allocation.
pub const RSS_LIMIT_MB: u32 = 2048;
/// Seconds per target when none are given.
const DEFAULT_SECONDS: u32 = 60;

/// One target's run, as honggfuzz summed it up.
pub struct Summary {
    pub iterations: u64,
    pub seconds: u64,
    pub crashes: u64,
    pub timeouts: u64,
    pub peak_rss_mb: u64,
    pub branch_coverage_percent: u64,
}

pub fn run(args: &[String]) -> Result {
    let targets: Vec<&str> = match args.first().map(String::as_str) {
        None | Some("all") => TARGETS.to_vec(),
        Some(name) if TARGETS.contains(&name) => vec![name],
        Some(other) => {
            return Err(format!(
                "unknown fuzz target `{other}` (all, {})",
                TARGETS.join(", ")
            ));
        }
    };
    let seconds = match args.get(1) {
        None => DEFAULT_SECONDS,
        Some(text) => text
            .parse()
            .ok()
            .filter(|&s| s > 0)
            .ok_or(format!("`{text}` is not a number of seconds"))?,
    };
    install()?;
    let mut failures = Vec::new();
    for target in targets {
        let (summary, crashes) = run_target(target, seconds)?;
        println!(
            "fuzz {target}: {} executions in {} s ({}/s), {} crashes, {} hangs, peak {} MB, {}% of branches",
            summary.iterations,
            summary.seconds,
            summary.iterations / summary.seconds.max(1),
            summary.crashes,
            summary.timeouts,
            summary.peak_rss_mb,
            summary.branch_coverage_percent
        );
        if summary.crashes > 0 || summary.timeouts > 0 || !crashes.is_empty() {
            let saved: Vec<String> = crashes.iter().map(|p| p.display().to_string()).collect();
            failures.push(format!(
                "{target}: {} crashes and {} hangs; inputs saved: {}",
                summary.crashes,
                summary.timeouts,
                saved.join(", ")
            ));
        }
    }
    match failures.is_empty() {
        true => Ok(()),
        false => Err(format!(
            "the fuzzers found inputs that break the product (fix them, then copy each input into \
             fuzz/regressions/<target>/):\n{}",
            failures.join("\n")
        )),
    }
}

/// honggfuzz's cargo subcommand, and the libraries its C side builds with.
fn install() -> Result {
    setup::debian_packages(&[("make", "make"), ("cc", "gcc")])?;
    // Debian keeps libunwind's header in the architecture's folder.
    let unwind = format!(
        "/usr/include/{}-linux-gnu/libunwind.h",
        std::env::consts::ARCH
    );
    setup::apt_headers(&[
        (&unwind, "libunwind-dev"),
        ("/usr/include/bfd.h", "binutils-dev"),
        ("/usr/include/lzma.h", "liblzma-dev"),
    ])?;
    let installed = output(cargo().args(["hfuzz", "version"])).unwrap_or_default();
    if exists("cargo-hfuzz") && installed.contains(HONGGFUZZ_VERSION) {
        return Ok(());
    }
    crate::command::run(cargo().args([
        "install",
        "--locked",
        "honggfuzz",
        "--version",
        HONGGFUZZ_VERSION,
    ]))
}

/// Runs one target for `seconds`; its summary and the crash files it saved.
fn run_target(target: &str, seconds: u32) -> Result<(Summary, Vec<PathBuf>)> {
    let fuzz = root().join("fuzz");
    let workspace = fuzz.join("hfuzz_workspace").join(target);
    let input = workspace.join("input");
    copy_seeds(&fuzz.join("seeds").join(target), &input)?;
    let before = crash_files(&workspace);
    let arguments = format!(
        "--run_time {seconds} --timeout {TIMEOUT_S} --rlimit_rss {RSS_LIMIT_MB} \
         --exit_upon_crash --threads 2 --input {} --workspace {}",
        input.display(),
        workspace.display()
    );
    eprintln!("$ HFUZZ_RUN_ARGS=\"{arguments}\" cargo hfuzz run {target}   (in fuzz/)");
    let ran = cargo()
        .args(["hfuzz", "run", target])
        .current_dir(&fuzz)
        .env("HFUZZ_RUN_ARGS", &arguments)
        .output()
        .map_err(|error| format!("cannot start cargo hfuzz: {error}"))?;
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr)
    );
    let summary = summary(&printed).ok_or_else(|| {
        let tail: String = printed
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        format!(
            "cargo hfuzz run {target} printed no summary ({}):\n{tail}",
            ran.status
        )
    })?;
    let crashes = crash_files(&workspace)
        .into_iter()
        .filter(|file| !before.contains(file))
        .collect();
    Ok((summary, crashes))
}

/// Copies every seed into the corpus folder (the corpus keeps what earlier runs added).
fn copy_seeds(seeds: &Path, corpus: &Path) -> Result {
    std::fs::create_dir_all(corpus)
        .map_err(|error| format!("cannot create {}: {error}", corpus.display()))?;
    let entries = std::fs::read_dir(seeds)
        .map_err(|error| format!("cannot read the seeds in {}: {error}", seeds.display()))?;
    for entry in entries.flatten() {
        let destination = corpus.join(entry.file_name());
        std::fs::copy(entry.path(), &destination)
            .map_err(|error| format!("cannot copy a seed to {}: {error}", destination.display()))?;
    }
    Ok(())
}

/// The inputs honggfuzz saved as crashes in `workspace` (`SIG*.fuzz`).
fn crash_files(workspace: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(workspace) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "fuzz"))
        .collect()
}

/// The numbers of honggfuzz's last line, `Summary iterations:N time:S ... crashes_count:C ...`.
fn summary(printed: &str) -> Option<Summary> {
    let line = printed
        .lines()
        .rev()
        .find(|line| line.contains("Summary iterations:"))?;
    let field = |name: &str| -> Option<u64> {
        line.split_whitespace()
            .find_map(|part| part.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|value| value.parse().ok())
    };
    Some(Summary {
        iterations: field("iterations")?,
        seconds: field("time")?,
        crashes: field("crashes_count")?,
        timeouts: field("timeout_count")?,
        peak_rss_mb: field("peak_rss_mb").unwrap_or(0),
        branch_coverage_percent: field("branch_coverage_percent").unwrap_or(0),
    })
}

/// What `cargo xtask test`'s short pass checks in the command's output: a line per target, none
/// with a crash or a hang.
pub fn every_target_clean(printed: &str) -> Result {
    for target in TARGETS {
        let prefix = format!("fuzz {target}: ");
        let line = printed
            .lines()
            .find(|line| line.starts_with(&prefix))
            .ok_or(format!("no summary for the fuzz target {target}"))?;
        if !line.contains(" 0 crashes, 0 hangs") {
            return Err(format!("the fuzz target {target} broke: {line}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honggfuzz_summaries_are_read() {
        let printed = "Sz:2 Tm:12201us\nSummary iterations:18413 time:31 speed:593 \
                       crashes_count:0 timeout_count:1 new_units_added:238 slowest_unit_ms:60 \
                       guard_nb:17701 branch_coverage_percent:5 peak_rss_mb:854\n";
        let summary = summary(printed).expect("a summary");
        assert_eq!(summary.iterations, 18413);
        assert_eq!(summary.seconds, 31);
        assert_eq!(summary.timeouts, 1);
        assert_eq!(summary.peak_rss_mb, 854);
        assert_eq!(summary.branch_coverage_percent, 5);
        assert!(summary_of_nothing().is_none());
    }

    fn summary_of_nothing() -> Option<Summary> {
        summary("honggfuzz: cannot build")
    }

    #[test]
    fn the_fuzz_targets_are_the_fuzz_crates() {
        let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
        for target in TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{target}\"")),
                "{target}"
            );
        }
        assert_eq!(manifest.matches("[[bin]]").count(), TARGETS.len());
    }
}
