//! The page before and around its engine: what `www/index.html` shows while the wasm module
//! loads (the title bar's links, what the opened page does, a status line), what it says when
//! the module cannot start, and the content security policy the whole app runs under.

use std::path::PathBuf;
use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page};

/// A copy of the built app without its wasm modules, as a browser that cannot fetch or run
/// them meets it.
fn app_without_engine() -> PathBuf {
    browser_tests::copy_of_app("no-engine", |name| name.contains("_bg.wasm"))
}

#[tokio::test]
async fn before_the_engine_runs_the_page_says_what_it_is_and_why_it_cannot_start() {
    let page = Page::launch_serving(app_without_engine(), &[]).await;
    page.open("/#page=images").await;
    let status = page
        .wait_until(
            "the status line says why the app cannot start",
            LOAD_TIMEOUT,
            async || {
                page.execute("return document.getElementById('boot-status').textContent;")
                    .await
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            },
            |text| text.contains("could not start"),
        )
        .await;
    assert!(status.contains("WebAssembly"), "{status}");
    let shown = page
        .execute(
            "return [...document.querySelectorAll('.boot-about')]
                .filter(p => !p.hidden).map(p => p.dataset.page);",
        )
        .await;
    assert_eq!(
        shown,
        serde_json::json!(["images"]),
        "the opened page's description alone"
    );
    let current = page
        .execute("return document.querySelector('#boot a[aria-current=page]').textContent;")
        .await;
    assert_eq!(current.as_str(), Some("Images (MNIST)"));
    let links = page
        .execute("return document.querySelectorAll('#boot nav a').length;")
        .await;
    assert_eq!(links.as_u64(), Some(12), "a link to every page");
}

#[tokio::test]
async fn the_app_replaces_the_loading_page_and_runs_under_its_security_policy() {
    let page = Page::launch().await;
    page.open("/#page=sequences").await;
    page.wait_for("nav-sequences", LOAD_TIMEOUT).await;
    let policy = page
        .execute(
            "return document.querySelector('meta[http-equiv=Content-Security-Policy]').content;",
        )
        .await;
    let policy = policy.as_str().unwrap_or_default();
    for directive in ["script-src 'self' 'wasm-unsafe-eval'", "connect-src 'self'"] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert_eq!(
        page.execute("return document.getElementById('boot');")
            .await,
        serde_json::Value::Null,
        "the loading page is gone"
    );
    // Everything the page loaded came from its own origin.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let elsewhere = page
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)
                .filter(name => !name.startsWith(location.origin) && !name.startsWith('blob:'));",
        )
        .await;
    assert_eq!(elsewhere, serde_json::json!([]));
}
