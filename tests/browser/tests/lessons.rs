//! The course's lesson pages in the real page: the document classifier (`#page=words`), one
//! weight descending x² + 3 (`#page=one-weight`), and every lesson of the registry opened from
//! the Lessons page, with a screenshot of each.

use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page};
use serde_json::Value;

/// Time for the page to reflect a click or an edit.
const SETTLE: Duration = Duration::from_secs(10);
/// Time for a chart to be drawn after its page appears, before a screenshot.
const DRAWN: Duration = Duration::from_millis(600);

/// The app open at `hash`, once `ready` (a `data-testid`) is drawn.
async fn open_at(hash: &str, ready: &str) -> Page {
    let page = Page::launch().await;
    page.open(&format!("/{hash}")).await;
    page.wait_for(ready, LOAD_TIMEOUT).await;
    page
}

/// Waits until the element's text reads `expected`.
async fn reads(page: &Page, test_id: &str, expected: &str) {
    page.wait_until(
        &format!("{test_id} reads {expected}"),
        SETTLE,
        async || page.text(test_id).await,
        |text| text == expected,
    )
    .await;
}

/// The counts f1, f2, f3 shown for document `row`.
async fn counts_of(page: &Page, row: usize) -> [String; 3] {
    let mut counts: [String; 3] = Default::default();
    for (feature, count) in counts.iter_mut().enumerate() {
        *count = page.text(&format!("word-count-{row}-{feature}")).await;
    }
    counts
}

#[tokio::test]
async fn the_course_documents_are_counted_and_the_course_weights_solve_problem_2() {
    let page = open_at("#page=words", "words-table").await;
    assert_eq!(page.text("word-document-0").await, "a b a c a b c a c");
    assert_eq!(counts_of(&page, 0).await, ["4", "2", "3"]);
    assert_eq!(page.text("word-document-1").await, "a b a a c");
    assert_eq!(counts_of(&page, 1).await, ["3", "1", "1"]);
    assert_eq!(page.text("word-expected-0").await, "Politics");
    assert_eq!(page.text("word-expected-1").await, "Sports");
    // All-zero weights score c1 = c2 = 0: argmax's tie-break, shown as such.
    assert_eq!(page.text("word-predicted-0").await, "Sports (tie)");
    assert!(
        !page.exists("words-solved").await,
        "all-zero weights cannot solve it"
    );
    assert!(page.has_class("word-row-0", "disagrees").await);

    // The course's answer: c1 = f1, c2 = f2 + f3.
    for weight in ["word-weight-0-0", "word-weight-1-1", "word-weight-2-1"] {
        page.type_into(weight, "1").await;
    }
    page.wait_for("words-solved", SETTLE).await;
    assert_eq!(
        page.text("words-solved").await,
        "Solved: every document classified as the rule says."
    );
    reads(&page, "word-score-0-0", "4.00").await;
    reads(&page, "word-score-0-1", "5.00").await;
    reads(&page, "word-predicted-0", "Politics").await;
    reads(&page, "word-predicted-1", "Sports").await;
    assert!(!page.has_class("word-row-0", "disagrees").await);
    page.screenshot("words_course_weights_solve_problem_2")
        .await;
}

#[tokio::test]
async fn a_typed_document_is_counted_and_unknown_words_are_refused() {
    let page = open_at("#page=words", "words-table").await;
    page.type_into("word-new-document", "a b d").await;
    page.click("word-add").await;
    let refusal = page.text("word-document-error").await;
    assert!(refusal.contains("\"d\" is not a word"), "{refusal}");
    assert!(!page.exists("word-document-8").await);

    page.type_into("word-new-document", "a a c").await;
    page.click("word-add").await;
    reads(&page, "word-document-8", "a a c").await;
    assert_eq!(counts_of(&page, 8).await, ["2", "0", "1"]);
    assert_eq!(page.text("word-expected-8").await, "Sports");
    assert!(!page.exists("word-document-error").await);
}

#[tokio::test]
async fn train_it_lets_the_engine_find_weights_that_solve_problem_2() {
    let page = open_at("#page=words", "words-table").await;
    page.click("words-train").await;
    page.wait_for("words-solved", SETTLE).await;
    let weight = page.value("word-weight-0-0").await;
    assert_ne!(
        weight, "0",
        "the matrix is filled in with the trained weights"
    );
    assert!(page.exists("words-training-note").await);
    page.screenshot("words_trained_by_the_engine").await;
}

#[tokio::test]
async fn one_step_at_0_01_gives_the_course_numbers() {
    let page = open_at("#page=one-weight", "one-weight-table").await;
    assert_eq!(page.value("one-weight-rate").await, "0.01");
    reads(&page, "one-weight-x-0", "2.0000").await;
    reads(&page, "one-weight-loss-0", "7.0000").await;
    page.click("one-weight-step").await;
    reads(&page, "one-weight-x-1", "1.9600").await;
    reads(&page, "one-weight-loss-1", "6.8416").await;
    let table = page.text("one-weight-table").await;
    for number in ["2.0000", "7.0000", "1.9600", "6.8416"] {
        assert!(table.contains(number), "{number} missing from {table}");
    }
    tokio::time::sleep(DRAWN).await;
    page.screenshot("one_weight_first_step").await;
}

#[tokio::test]
async fn a_rate_above_1_diverges_and_play_stops_with_a_message() {
    let page = open_at("#page=one-weight", "one-weight-table").await;
    page.select("one-weight-rate", "1.1").await;
    let note = page.text("one-weight-rate-note").await;
    assert!(note.contains("diverges"), "{note}");
    page.click("one-weight-play").await;
    let message = page
        .wait_until(
            "play stops on divergence",
            Duration::from_secs(30),
            async || {
                page.execute(
                    "const e = document.querySelector('[data-testid=one-weight-message]');\
                     return e === null ? '' : e.textContent;",
                )
                .await
            },
            |text| text.as_str().is_some_and(|t| t.starts_with("Diverged")),
        )
        .await;
    assert!(message.as_str().unwrap().contains("smaller learning rate"));
    page.screenshot("one_weight_diverged").await;
}

/// The ids of the lessons listed on the Lessons page, from their cards' test ids.
async fn listed_lessons(page: &Page) -> Vec<String> {
    let ids = page
        .execute(
            "return [...document.querySelectorAll('.lesson-cards [data-testid^=\"lesson-\"]')]\
                .map(e => e.getAttribute('data-testid').slice('lesson-'.length));",
        )
        .await;
    ids.as_array()
        .expect("a list of ids")
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// What the page shows after a lesson's link was followed: whether the list is gone, a page or
/// a lesson panel is drawn with some text, and the banner's text (empty when it is hidden).
const RENDERED_LESSON: &str = "
    const app = document.querySelector('.app');
    const banner = document.querySelector('[data-testid=message]');
    return {
        listGone: document.querySelector('.lesson-cards') === null,
        content: document.querySelector('[data-testid=lesson-panel], section.page, main') !== null,
        textLength: app === null ? 0 : app.innerText.length,
        hash: location.hash,
        banner: banner === null || banner.classList.contains('hidden') ? '' : banner.textContent,
    };";

#[tokio::test]
async fn every_lesson_opens_from_the_lessons_page_and_shows_its_page() {
    let page = open_at("#page=lessons", "nav-lessons").await;
    let lessons = listed_lessons(&page).await;
    assert!(lessons.len() >= 12, "{lessons:?}");
    for id in ["documents", "one-weight"] {
        assert!(lessons.iter().any(|lesson| lesson == id), "{id} not listed");
    }
    for id in &lessons {
        page.open("/#page=lessons").await;
        page.click(&format!("lesson-{id}")).await;
        let shown = page
            .wait_until(
                &format!("lesson {id} is drawn"),
                SETTLE,
                async || page.execute(RENDERED_LESSON).await,
                |shown| {
                    shown["listGone"] == true
                        && shown["content"] == true
                        && shown["textLength"].as_u64().unwrap_or(0) > 300
                },
            )
            .await;
        let hash = shown["hash"].as_str().unwrap_or_default();
        assert!(hash.contains(&format!("lesson={id}")), "{id}: {hash}");
        let banner = shown["banner"].as_str().unwrap_or_default();
        assert!(
            !banner.contains("could not"),
            "{id} opened with a complaint: {banner}"
        );
        tokio::time::sleep(DRAWN).await;
        page.screenshot(&format!("lesson-{id}")).await;
    }
}

#[tokio::test]
async fn problem_1_says_solved_once_the_weights_separate_the_classes() {
    let lesson = neural_playground::playground::lessons::find("problem-1").unwrap();
    let page = open_at(&lesson.link(), "lesson-goal").await;
    assert!(!page.text("lesson-goal").await.starts_with("Solved"));
    // c1 = f2 and c2 = f1: the second output (the blue class, f1 > f2) wins exactly when f1 > f2.
    for (edge, weight) in [("edge-0-0-1", "1"), ("edge-0-1-0", "1")] {
        // The two edges cross at their middles: press where this one is on top.
        page.press(edge).await;
        page.type_into("weight-input", weight).await;
    }
    page.wait_until(
        "the goal is reached",
        SETTLE,
        async || page.text("lesson-goal").await,
        |goal| goal.starts_with("Solved"),
    )
    .await;
    page.screenshot("lesson_problem_1_solved").await;
}
