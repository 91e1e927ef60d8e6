//! Every page meets axe-core's WCAG 2.2 A and AA rules (`Page::assert_accessible`), when it
//! opens and in its main states: training, stepping, a lesson open, a model built, a sequence
//! decoded; every page fits a phone's and a tablet's window, and a finger drags a weight and
//! draws a digit there. The pages come from the app's own list, so a page added later is checked
//! without a change here.

use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page};
use neural_playground::playground::page::Page as AppPage;
use serde_json::Value;

/// Time for a page's worker to start.
const READY: Duration = Duration::from_secs(60);

/// Opens `#page=<key><more>` and waits until its tab is the current one and it has drawn.
async fn open_page(page: &Page, key: &str, more: &str) {
    page.open(&format!("/#page={key}{more}")).await;
    page.wait_until(
        &format!("the {key} page is open"),
        LOAD_TIMEOUT,
        async || {
            page.execute_with(
                "const tab = document.querySelector(`[data-testid=nav-${arguments[0]}]`);
                 return tab !== null && tab.classList.contains('current');",
                vec![Value::from(key)],
            )
            .await
        },
        |open| open == &Value::Bool(true),
    )
    .await;
    // Charts and canvases draw in the frames after the first.
    tokio::time::sleep(Duration::from_millis(800)).await;
}

#[tokio::test]
async fn every_page_passes_axe_as_it_opens() {
    let page = Page::launch().await;
    for target in AppPage::ALL {
        open_page(&page, target.key(), "").await;
        page.assert_accessible(&format!("the {} page", target.key()))
            .await;
    }
}

/// A phone (390x844) and tablets upright (768x1024) and on their side (1024x768): every page
/// fits the window's width, passes axe (touch targets of 24 px included) and is photographed.
#[tokio::test]
async fn every_page_fits_phones_and_tablets_and_passes_axe_there() {
    let page = Page::launch().await;
    for (width, height) in [(390, 844), (768, 1024), (1024, 768)] {
        page.resize(width, height).await;
        for target in AppPage::ALL {
            let key = target.key();
            open_page(&page, key, "").await;
            let (page_width, window_width) = page.widths().await;
            let shot = page.screenshot(&format!("{width}x{height}-{key}")).await;
            assert!(
                page_width <= window_width,
                "the {key} page is {page_width} px wide in a window of {window_width} at \
                 {width}x{height} (screenshot {})",
                shot.display()
            );
            page.assert_accessible(&format!("the {key} page at {width}x{height}"))
                .await;
        }
    }
}

/// Opens every chart's "Show the numbers" table on the page as a user would (a click on its
/// summary) and returns each table's test id and its number of rows.
async fn open_every_table(page: &Page) -> Vec<(String, u64)> {
    page.execute(
        "document.querySelectorAll('details.data-table:not([open]) > summary').forEach(s => s.click());
         return null;",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let tables = page
        .execute(
            "return [...document.querySelectorAll('details.data-table')].map(d =>
                 [d.getAttribute('data-testid'), d.querySelector('table caption') === null
                     ? -1 : d.querySelectorAll('tbody tr').length]);",
        )
        .await;
    let tables: Vec<(String, i64)> = serde_json::from_value(tables).expect("the tables");
    tables
        .into_iter()
        .map(|(id, rows)| {
            assert!(rows >= 0, "{id} did not open into a captioned table");
            (id, rows as u64)
        })
        .collect()
}

#[tokio::test]
async fn the_playground_and_the_stepper_pass_axe_while_used() {
    let page = Page::launch().await;
    open_page(&page, "playground", "").await;
    page.click("play").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The charts' text alternatives: a sentence for the decision boundary, and the numbers of
    // the loss curves and of the output on demand.
    let boundary = page
        .execute("return document.querySelector('[data-testid=output-heatmap]').getAttribute('aria-label');")
        .await;
    let boundary = boundary.as_str().unwrap_or_default();
    assert!(
        boundary.starts_with("The network predicts blue"),
        "{boundary}"
    );
    let tables = open_every_table(&page).await;
    let rows = |id: &str| tables.iter().find(|(table, _)| table == id).map(|t| t.1);
    assert!(
        rows("loss-chart-table").is_some_and(|rows| rows > 0),
        "{tables:?}"
    );
    assert_eq!(rows("output-table"), Some(6), "{tables:?}");
    page.assert_accessible("the playground training, its tables open")
        .await;
    page.click("play").await;

    open_page(&page, "backprop", "").await;
    for _ in 0..5 {
        page.click("step-next").await;
    }
    page.assert_accessible("the backprop stepper at step 5")
        .await;

    open_page(&page, "lessons", "").await;
    page.click("lesson-problem-1").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    page.assert_accessible("a lesson open").await;
}

/// Opens `#page=<key><more>`, presses its Train button `train` once the worker is ready, and
/// lets it train a few seconds.
async fn start_training(page: &Page, key: &str, more: &str, train: &str) {
    open_page(page, key, more).await;
    page.wait_until_enabled(train, READY).await;
    page.click(train).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
}

#[tokio::test]
async fn the_training_pages_pass_axe_while_training() {
    let page = Page::launch().await;
    open_page(&page, "images", "").await;
    page.select("add-layer-kind", "dropout").await;
    page.click("add-layer").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    page.assert_accessible("the Images page with a layer added")
        .await;
    page.wait_until_enabled("images-train", READY).await;
    page.click("images-train").await;
    page.wait_for("train-progress", LOAD_TIMEOUT).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let tables = open_every_table(&page).await;
    assert!(
        tables.iter().any(|(id, _)| id == "curves-table"),
        "{tables:?}"
    );
    page.assert_accessible("the Images page training, its tables open")
        .await;

    start_training(&page, "sequences", "", "train").await;
    let tables = open_every_table(&page).await;
    assert!(
        tables.iter().any(|(id, _)| id == "state-gradients-table"),
        "{tables:?}"
    );
    page.assert_accessible("the Sequences page training, its tables open")
        .await;

    start_training(
        &page,
        "seq2seq",
        "&s2sLongest=6&s2sShortest=2&s2sEpochs=2",
        "s2s-train",
    )
    .await;
    page.type_into("s2s-input", "1 2 3 4 5").await;
    page.assert_accessible("the Seq2seq page training, a typed input decoded")
        .await;
}

/// On a phone, with a finger: dragging an edge of the network changes the output, and a digit
/// drawn on the Images page's pad is classified.
#[tokio::test]
async fn on_a_phone_a_finger_drags_a_weight_and_draws_a_digit() {
    let page = Page::launch().await;
    page.resize(390, 844).await;
    open_page(&page, "playground", "&dataset=xor").await;
    page.wait_for("edge-0-1-0", LOAD_TIMEOUT).await;
    let before = page.canvas_data_url("output-heatmap").await;
    page.touch_drag("edge-0-1-0", 0.0, -60.0).await;
    page.wait_until(
        "the heatmap changes after a finger drags edge 0-1-0",
        LOAD_TIMEOUT,
        async || page.canvas_data_url("output-heatmap").await,
        |heatmap| *heatmap != before,
    )
    .await;
    let (page_width, window_width) = page.widths().await;
    assert!(page_width <= window_width, "{page_width} > {window_width}");

    open_page(&page, "images", "").await;
    page.touch_drag("draw-pad", 0.0, 120.0).await;
    page.wait_for("probabilities", LOAD_TIMEOUT).await;
    assert!(page.text("layer-view").await.contains("Your digit"));
    page.screenshot("390x844-images-drawn-with-a-finger").await;
}

/// Where the system asks for more contrast (Chromium's `--force-high-contrast`, which also
/// forces the system's colours), muted text is no longer grey and the current page is still
/// marked (underlined, not only shaded). Axe does not model forced colours, so it is not run.
#[tokio::test]
async fn the_high_contrast_theme_follows_the_system() {
    let page = Page::launch_with_args(&["--force-high-contrast"]).await;
    for key in ["playground", "images"] {
        open_page(&page, key, "").await;
        let hint = page
            .execute("return getComputedStyle(document.querySelector('.hint')).color;")
            .await;
        assert!(
            hint == "rgb(51, 51, 51)" || hint == "rgb(0, 0, 0)",
            "the {key} page's hints are {hint}"
        );
        let current = page
            .execute(
                "const tab = document.querySelector('[aria-current=page]');
                 return tab === null ? '' : getComputedStyle(tab).textDecorationLine;",
            )
            .await;
        assert_eq!(current, "underline", "the {key} page's tab");
    }
}
