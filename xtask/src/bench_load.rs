//! `cargo xtask bench load`: how fast each page of the built app is useful to a first visitor
//! on a phone, measured by Lighthouse (npm, installed on first use outside the repository) with
//! its default mobile preset (simulated slow 4G and a 4x slower CPU), the app served by
//! `cargo xtask serve`'s own server (brotli, as a static host should send it). The table goes
//! into `docs/load-time.md`; `bench quick` runs one page to check that every figure is read.

use crate::bench_references::cache_dir;
use crate::build;
use crate::command::{self, Result, exists, root};
use crate::setup;
use dist_server::DistServer;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

const LIGHTHOUSE_VERSION: &str = "13.5.0";
/// The issue's goal for every page: at least this score on the mobile preset...
const TARGET_SCORE: f64 = 95.0;
/// ...and a largest contentful paint under this many seconds.
const TARGET_LCP_SECONDS: f64 = 2.5;
/// Where the table goes in `docs/load-time.md`, between these lines.
const TABLE_START: &str = "<!-- bench load: table -->";
const TABLE_END: &str = "<!-- bench load: end -->";

/// Lighthouse's figures for one page.
#[derive(Debug, PartialEq)]
pub struct PageLoad {
    pub page: String,
    pub score: f64,
    pub first_paint_ms: f64,
    pub largest_paint_ms: f64,
    pub blocking_ms: f64,
    pub layout_shift: f64,
    pub kib: f64,
}

/// `bench load`: every page, written into `docs/load-time.md`; `quick`: the playground alone,
/// checked, nothing written.
pub fn run(quick: bool) -> Result {
    setup::for_tests()?;
    let lighthouse = lighthouse()?;
    // The quick run measures whatever app is built; the real one builds it afresh.
    if !quick || !build::dist_dir().join("index.html").exists() {
        build::release()?;
    }
    let pages = if quick {
        vec!["playground".to_string()]
    } else {
        page_keys()?
    };
    let server = DistServer::start(build::dist_dir(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .map_err(|error| format!("cannot serve dist/: {error}"))?;
    let mut loads = Vec::new();
    for page in &pages {
        let url = format!("{}/#page={page}", server.base_url());
        loads.push(measure(&lighthouse, page, &url)?);
    }
    let table = table(&loads);
    println!("{table}");
    if quick {
        println!("# bench load quick: every Lighthouse figure of the playground was read");
        return Ok(());
    }
    let doc = root().join("docs/load-time.md");
    let text = std::fs::read_to_string(&doc)
        .map_err(|error| format!("cannot read {}: {error}", doc.display()))?;
    let text = with_table(&text, &table)?;
    std::fs::write(&doc, text).map_err(|error| format!("cannot write {}: {error}", doc.display()))
}

/// The pages, as the title bar of `www/index.html` links them (a unit test of the app keeps
/// those links equal to its list of pages); the lessons' links further down are not pages.
fn page_keys() -> Result<Vec<String>> {
    let page = std::fs::read_to_string(root().join("www/index.html"))
        .map_err(|error| format!("cannot read www/index.html: {error}"))?;
    let keys: Vec<String> = page
        .split("<a class=\"nav\" href=\"#page=")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect();
    match keys.is_empty() {
        true => Err("www/index.html links to no page".to_string()),
        false => Ok(keys),
    }
}

/// The Lighthouse program, installed from npm into the cache when missing.
fn lighthouse() -> Result<PathBuf> {
    let packages = cache_dir()?.join(format!("lighthouse-{LIGHTHOUSE_VERSION}"));
    let program = packages.join("node_modules/.bin/lighthouse");
    if program.is_file() {
        return Ok(program);
    }
    if !exists("npm") {
        setup::debian_packages(&[("npm", "nodejs npm")])?;
    }
    std::fs::create_dir_all(&packages)
        .map_err(|error| format!("cannot create {}: {error}", packages.display()))?;
    command::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&packages)
            .arg(format!("lighthouse@{LIGHTHOUSE_VERSION}")),
    )
    .map_err(|error| format!("cannot install Lighthouse ({error})"))?;
    match program.is_file() {
        true => Ok(program),
        false => Err(format!(
            "npm installed Lighthouse without {}",
            program.display()
        )),
    }
}

/// One Lighthouse run of `url` (performance only, mobile preset) in headless Chromium.
fn measure(lighthouse: &Path, page: &str, url: &str) -> Result<PageLoad> {
    let report = std::env::temp_dir().join(format!(
        "neural-playground-lighthouse-{}-{page}.json",
        std::process::id()
    ));
    command::run(
        Command::new(lighthouse)
            .arg(url)
            .args(["--only-categories=performance", "--output=json", "--quiet"])
            .arg(format!("--output-path={}", report.display()))
            .arg("--chrome-path=/usr/bin/chromium")
            .arg(
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu \
             --disable-background-networking --disable-component-update --disable-sync \
             --no-first-run",
            ),
    )?;
    let json = std::fs::read_to_string(&report)
        .map_err(|error| format!("Lighthouse wrote no report for {page}: {error}"))?;
    let _ = std::fs::remove_file(&report);
    read_report(page, &json)
}

/// The figures of a Lighthouse JSON report.
fn read_report(page: &str, json: &str) -> Result<PageLoad> {
    let report: serde_json::Value =
        serde_json::from_str(json).map_err(|error| format!("{page}: not a report: {error}"))?;
    let audit = |name: &str| {
        report["audits"][name]["numericValue"]
            .as_f64()
            .ok_or_else(|| format!("{page}: the report has no figure for {name}"))
    };
    let score = report["categories"]["performance"]["score"]
        .as_f64()
        .ok_or_else(|| format!("{page}: the report has no performance score"))?;
    Ok(PageLoad {
        page: page.to_string(),
        score: score * 100.0,
        first_paint_ms: audit("first-contentful-paint")?,
        largest_paint_ms: audit("largest-contentful-paint")?,
        blocking_ms: audit("total-blocking-time")?,
        layout_shift: audit("cumulative-layout-shift")?,
        kib: audit("total-byte-weight")? / 1024.0,
    })
}

/// A Markdown table of the figures, each page marked where it misses the issue's goal.
fn table(loads: &[PageLoad]) -> String {
    let mut lines = vec![
        "| page | performance | first contentful paint | largest contentful paint | total blocking time | layout shift | transferred | goal |".to_string(),
        "|---|---:|---:|---:|---:|---:|---:|---|".to_string(),
    ];
    for load in loads {
        let met = load.score >= TARGET_SCORE && load.largest_paint_ms < TARGET_LCP_SECONDS * 1000.0;
        lines.push(format!(
            "| {} | {:.0} | {:.1} s | {:.1} s | {:.0} ms | {:.3} | {:.0} KiB | {} |",
            load.page,
            load.score,
            load.first_paint_ms / 1000.0,
            load.largest_paint_ms / 1000.0,
            load.blocking_ms,
            load.layout_shift,
            load.kib,
            if met { "met" } else { "missed" },
        ));
    }
    lines.join("\n")
}

/// `doc` with the table between its markers replaced by `table`.
fn with_table(doc: &str, table: &str) -> Result<String> {
    let start = doc
        .find(TABLE_START)
        .ok_or(format!("docs/load-time.md has no {TABLE_START} line"))?
        + TABLE_START.len();
    let end = doc[start..]
        .find(TABLE_END)
        .ok_or(format!("docs/load-time.md has no {TABLE_END} line"))?
        + start;
    Ok(format!("{}\n{table}\n{}", &doc[..start], &doc[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{"categories": {"performance": {"score": 0.98}},
        "audits": {"first-contentful-paint": {"numericValue": 912.5},
                   "largest-contentful-paint": {"numericValue": 934.0},
                   "total-blocking-time": {"numericValue": 180.2},
                   "cumulative-layout-shift": {"numericValue": 0.0},
                   "total-byte-weight": {"numericValue": 961536}}}"#;

    #[test]
    fn a_report_is_read_and_tabled_against_the_goal() {
        let load = read_report("playground", REPORT).unwrap();
        assert_eq!(load.score, 98.0);
        assert_eq!(load.kib, 939.0);
        let slow = PageLoad {
            largest_paint_ms: 6000.0,
            page: "images".to_string(),
            ..read_report("images", REPORT).unwrap()
        };
        let table = table(&[load, slow]);
        assert!(
            table.contains("| playground | 98 | 0.9 s | 0.9 s | 180 ms | 0.000 | 939 KiB | met |"),
            "{table}"
        );
        assert!(table.contains("| images | 98 | 0.9 s | 6.0 s |"), "{table}");
        assert!(table.ends_with("missed |"), "{table}");
        assert!(read_report("x", r#"{"audits": {}}"#).is_err());
    }

    #[test]
    fn the_pages_are_those_the_loading_page_links() {
        let keys = page_keys().unwrap();
        assert_eq!(keys.first().map(String::as_str), Some("playground"));
        assert!(keys.contains(&"seq2seq".to_string()), "{keys:?}");
        assert_eq!(keys.len(), 12, "{keys:?}");
        assert!(keys.iter().all(|key| !key.contains('&')), "{keys:?}");
    }

    #[test]
    fn the_table_replaces_the_one_between_the_markers() {
        let doc = format!("intro\n{TABLE_START}\nold\n{TABLE_END}\nrest");
        let new = with_table(&doc, "| new |").unwrap();
        assert_eq!(
            new,
            format!("intro\n{TABLE_START}\n| new |\n{TABLE_END}\nrest")
        );
        assert!(with_table("no markers", "x").is_err());
    }
}
