//! Work kept in the browser (IndexedDB) between visits: a reload brings the playground back as it
//! was; a link to another set-up leaves the kept work waiting; damaged kept work, and a browser
//! that stores nothing, leave a working page that says so.

use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page};

/// Time for the page to reflect an action.
const SETTLE: Duration = Duration::from_secs(10);
/// Longer than two autosave ticks (2 s each): the last change is surely kept by then.
const KEPT: Duration = Duration::from_secs(5);

async fn open(page: &Page, path_and_hash: &str) {
    page.open(path_and_hash).await;
    page.wait_for("play", LOAD_TIMEOUT).await;
}

async fn text_contains(page: &Page, test_id: &str, expected: &str) {
    page.wait_until(
        &format!("{test_id} says {expected:?}"),
        SETTLE,
        async || page.text(test_id).await,
        |text| text.contains(expected),
    )
    .await;
}

async fn epoch_is(page: &Page, expected: u64) {
    page.wait_until(
        &format!("the epoch is {expected}"),
        SETTLE,
        async || page.integer("epoch").await,
        |epoch| *epoch == expected,
    )
    .await;
}

async fn step_to(page: &Page, epochs: u64) {
    for epoch in 1..=epochs {
        page.click("step").await;
        epoch_is(page, epoch).await;
    }
}

#[tokio::test]
async fn the_playground_comes_back_after_a_reload() {
    let page = Page::launch().await;
    open(&page, "/").await;
    text_contains(&page, "playground-save-status", "kept in this browser").await;
    page.click("dataset-spiral").await;
    step_to(&page, 5).await;
    tokio::time::sleep(KEPT).await;
    text_contains(&page, "playground-save-status", "Kept in this browser at").await;
    let losses = (page.text("loss-train").await, page.text("loss-test").await);
    let hash = page.execute("return location.hash").await;
    let hash = hash.as_str().expect("a hash").to_string();

    // Opened again: as it was, with a notice, and training goes on from there.
    open(&page, &format!("/{hash}")).await;
    text_contains(&page, "playground-work-notice", "Welcome back").await;
    epoch_is(&page, 5).await;
    let restored = (page.text("loss-train").await, page.text("loss-test").await);
    assert_eq!(restored, losses);
    assert!(page.has_class("dataset-spiral", "selected").await);
    page.screenshot("saved_work_restored").await;
    page.resize(390, 844).await;
    page.screenshot("saved_work_restored_phone").await;
    page.resize(1400, 1000).await;
    page.click("step").await;
    epoch_is(&page, 6).await;
    tokio::time::sleep(KEPT).await;

    // A link to another set-up opens as linked; the kept work waits and opens on request.
    open(&page, "/#dataset=xor").await;
    text_contains(&page, "playground-work-notice", "another set-up").await;
    epoch_is(&page, 0).await;
    page.click("playground-open-work").await;
    epoch_is(&page, 6).await;
    assert!(page.has_class("dataset-spiral", "selected").await);

    // Start fresh: the page as on a first visit, and that is what is kept from now on.
    page.click("playground-fresh").await;
    epoch_is(&page, 0).await;
    assert!(!page.has_class("dataset-spiral", "selected").await);
    tokio::time::sleep(KEPT).await;
    open(&page, "/").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(page.integer("epoch").await, 0);
}

#[tokio::test]
async fn damaged_kept_work_is_refused_and_replaced() {
    let page = Page::launch().await;
    open(&page, "/").await;
    text_contains(&page, "playground-save-status", "kept in this browser").await;
    let written = page
        .execute(
            "return new Promise((resolve, reject) => {
                const opening = indexedDB.open('neural-playground', 1);
                opening.onerror = () => reject(opening.error);
                opening.onsuccess = () => {
                    const database = opening.result;
                    const writing = database.transaction('work', 'readwrite');
                    writing.objectStore('work').put(new Uint8Array([1, 2, 3, 4, 5]), 'playground');
                    writing.oncomplete = () => { database.close(); resolve(true); };
                    writing.onerror = () => reject(writing.error);
                };
            })",
        )
        .await;
    assert_eq!(written, serde_json::json!(true));

    open(&page, "/").await;
    text_contains(&page, "playground-work-notice", "could not be read").await;
    page.screenshot("saved_work_damaged").await;
    step_to(&page, 2).await;
    tokio::time::sleep(KEPT).await;
    text_contains(&page, "playground-save-status", "Kept in this browser at").await;
    open(&page, "/").await;
    text_contains(&page, "playground-work-notice", "Welcome back").await;
    epoch_is(&page, 2).await;
}

#[tokio::test]
async fn without_storage_the_page_works_and_says_so() {
    let page = Page::launch_without_storage().await;
    open(&page, "/").await;
    text_contains(&page, "playground-save-problem", "Saving stopped").await;
    text_contains(&page, "playground-save-status", "not being kept").await;
    text_contains(&page, "playground-work-notice", "not being kept").await;
    step_to(&page, 2).await;
    page.screenshot("saved_work_no_storage").await;
    page.execute("document.querySelector('.saved-work-card').scrollIntoView()")
        .await;
    page.screenshot("saved_work_no_storage_card").await;
}
