//! The Seq2seq page (`#page=seq2seq`) in the real page: reversal trains from a link in the
//! worker, a typed input is decoded step by step (from the keyboard too) with an attention
//! matrix that looks where reversal must, a bad input is refused in words, the answers by
//! length and the embedding maps appear, a bad link field is named, and the page fits a phone.

use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page};
use serde_json::Value;

/// Time for the worker to start.
const READY: Duration = Duration::from_secs(60);

/// The weights of attention row `step`, input by input.
async fn attention_row(page: &Page, step: usize) -> Vec<f64> {
    let values = page
        .execute_with(
            "return [...document.querySelectorAll(`[data-testid=attention-row-${arguments[0]}] td`)]\
             .map(cell => Number(cell.dataset.value));",
            vec![Value::from(step)],
        )
        .await;
    values
        .as_array()
        .expect("an array of weights")
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[tokio::test]
async fn reversal_trains_from_a_link_and_attention_looks_at_the_mirrored_input() {
    let page = Page::launch().await;
    page.open("/#page=seq2seq&s2sLongest=6&s2sShortest=2&s2sEpochs=8")
        .await;
    page.wait_for("seq2seq-page", LOAD_TIMEOUT).await;
    assert_eq!(page.value("s2s-task").await, "reverse");
    assert_eq!(page.value("s2s-longest").await, "6");
    assert_eq!(page.value("s2s-shortest").await, "2");
    assert_eq!(page.value("s2s-attention").await, "dot");
    // Before training: the example input is decoded, an attention matrix of 6 inputs.
    page.wait_for("attention-matrix", LOAD_TIMEOUT).await;
    assert_eq!(attention_row(&page, 0).await.len(), 6);
    page.wait_until(
        "the Train button is enabled",
        READY,
        async || {
            page.execute("return !document.querySelector('[data-testid=s2s-train]').disabled;")
                .await
        },
        |enabled| enabled == &Value::Bool(true),
    )
    .await;
    page.click("s2s-train").await;
    let answers = page
        .wait_until(
            "at least 95% of the answers right",
            Duration::from_secs(240),
            async || page.number("s2s-answers").await,
            |answers| *answers >= 95.0,
        )
        .await;
    eprintln!("reversal: {answers}% of the answers right");
    page.screenshot("seq2seq_trained").await;
    // A typed input, decoded by the trained network: reversed, and each step looks most at
    // the input it copies (step k at input n - 1 - k).
    page.type_into("s2s-input", "1 2 3 4 5").await;
    let output = page
        .wait_until(
            "the reversed output",
            LOAD_TIMEOUT,
            async || page.text("decoding-output").await,
            |text| text.contains("5 4 3 2 1"),
        )
        .await;
    assert!(
        page.text("decoding-verdict").await.contains("right"),
        "{output}"
    );
    for step in 0..5 {
        let row = attention_row(&page, step).await;
        assert_eq!(row.len(), 5);
        let most = (0..5).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
        assert_eq!(most, 4 - step, "step {step} looks at {row:?}");
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 0.01, "{row:?}");
    }
    // The encoding and the first step: it reads the start token.
    assert!(page.exists("encoding").await);
    let first = page.text("decoder-step-text").await;
    assert!(
        first.starts_with("Step 1 of 6 reads “start”, writes “5”"),
        "{first}"
    );
    // From the keyboard: the next step, then the last.
    page.keys("decoder-token-0", "\u{E014}").await;
    let second = page.text("decoder-step-text").await;
    assert!(
        second.starts_with("Step 2 of 6 reads “5”, writes “4”"),
        "{second}"
    );
    page.keys("decoder-token-1", "\u{E010}").await;
    let last = page.text("decoder-step-text").await;
    assert!(last.contains("writes “end”"), "{last}");
    // Focus moved along to the step shown (one tab stop for the steps).
    assert_eq!(
        page.execute("return document.activeElement.dataset.testid;")
            .await,
        Value::from("decoder-token-5")
    );
    // Answers by input length, 2 to 6, for dot-product attention.
    let table = page.text("s2s-length-table").await;
    assert!(table.contains("Dot-product"), "{table}");
    assert_eq!(
        page.execute("return document.querySelectorAll('[data-testid=s2s-length-table] tr:first-of-type td').length;")
            .await,
        Value::from(5)
    );
    // The embedding maps: ten digits in, ten digits, the end and the start out.
    assert_eq!(
        page.execute(
            "return document.querySelectorAll('[data-testid=embedding-source] circle').length;"
        )
        .await,
        Value::from(10)
    );
    assert_eq!(
        page.execute(
            "return document.querySelectorAll('[data-testid=embedding-target] circle').length;"
        )
        .await,
        Value::from(12)
    );
    page.execute("document.getElementById('s2s-decoding-title').scrollIntoView();")
        .await;
    page.screenshot("seq2seq_decoding").await;
    page.execute("document.getElementById('s2s-lengths-title').scrollIntoView();")
        .await;
    page.screenshot("seq2seq_lengths_embeddings").await;
    // A bad input is refused in words; the decoding comes back with a good one.
    page.type_into("s2s-input", "1 2 x").await;
    let refusal = page.text("s2s-input-error").await;
    assert!(refusal.contains("`x` is not a digit"), "{refusal}");
    page.type_into("s2s-input", "1 2 3 4 5 6 7").await;
    let refusal = page.text("s2s-input-error").await;
    assert!(refusal.contains("1 to 6 digits"), "{refusal}");
    page.type_into("s2s-input", "9 8").await;
    page.wait_for("attention-matrix", LOAD_TIMEOUT).await;
    // The trained network exports to a PyTorch script that rebuilds the encoder-decoder.
    page.keys("s2s-pytorch-show", "\u{E007}").await;
    let script = page.text("s2s-pytorch-script").await;
    assert!(
        script.contains("class EncoderDecoder"),
        "{}",
        &script[..script.len().min(400)]
    );
    assert!(
        script.contains("load_state_dict"),
        "the script loads the weights"
    );
}

/// Trains the page's set-up to its last epoch (Train, then wait until the Train button is
/// disabled until Reset).
async fn train_to_the_end(page: &Page) {
    page.wait_until(
        "the Train button is enabled",
        READY,
        async || {
            page.execute("return !document.querySelector('[data-testid=s2s-train]').disabled;")
                .await
        },
        |enabled| enabled == &Value::Bool(true),
    )
    .await;
    page.click("s2s-train").await;
    page.wait_until(
        "the run to finish",
        Duration::from_secs(240),
        async || {
            page.execute("return document.querySelector('[data-testid=s2s-train]').disabled;")
                .await
        },
        |disabled| disabled == &Value::Bool(true),
    )
    .await;
}

/// The share of answers right at input lengths 12 to 16 in the length table's row `row`.
async fn long_answers(page: &Page, row: usize) -> f64 {
    let cells = page
        .execute_with(
            "return [...document.querySelectorAll(`[data-testid=s2s-length-table] tr:nth-of-type(${arguments[0] + 2}) td`)]\
             .map(cell => parseFloat(cell.textContent));",
            vec![Value::from(row)],
        )
        .await;
    let cells: Vec<f64> = cells
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(cells.len(), 16, "{cells:?}");
    cells[11..].iter().sum::<f64>() / 5.0
}

/// The course's point about the encoding: trained without attention, the decoder loses long
/// inputs (all it has of them is the encoder's last state); trained again with dot-product
/// attention on the same inputs, it keeps them. Both runs' answers by length stay on the chart.
#[tokio::test]
async fn attention_keeps_the_long_inputs_that_the_encoding_alone_loses() {
    let page = Page::launch().await;
    page.open("/#page=seq2seq&s2sLongest=16&s2sAttention=none")
        .await;
    page.wait_for("seq2seq-page", LOAD_TIMEOUT).await;
    train_to_the_end(&page).await;
    page.click("images-reset").await;
    page.select("s2s-attention", "dot").await;
    train_to_the_end(&page).await;
    let table = page.text("s2s-length-table").await;
    assert!(
        table.contains("No attention") && table.contains("Dot-product"),
        "{table}"
    );
    let (without, with) = (long_answers(&page, 0).await, long_answers(&page, 1).await);
    eprintln!("inputs of 12 to 16: {without:.0}% right without attention, {with:.0}% with");
    assert!(
        with >= without + 50.0,
        "{without}% without, {with}% with attention"
    );
    page.execute("document.getElementById('s2s-lengths-title').scrollIntoView();")
        .await;
    page.screenshot("seq2seq_attention_lengths").await;
}

#[tokio::test]
async fn the_set_up_comes_from_the_link_and_a_bad_field_is_named() {
    let page = Page::launch().await;
    page.open("/#page=seq2seq&s2sTask=add&s2sCell=gru&s2sAttention=none&s2sHidden=0")
        .await;
    page.wait_for("seq2seq-page", LOAD_TIMEOUT).await;
    assert_eq!(page.value("s2s-task").await, "add");
    assert_eq!(page.value("s2s-cell").await, "gru");
    assert_eq!(page.value("s2s-attention").await, "none");
    assert_eq!(page.value("s2s-hidden").await, "64");
    // Without attention there is no matrix, and the page says why.
    let none = page.text("no-attention").await;
    assert!(none.contains("only through the encoding"), "{none}");
    // A typed sum, lowest bits first inside: 101 + 11 is read as three pairs of bits.
    page.type_into("s2s-input", "101 + 11").await;
    assert!(page.exists("decoding-output").await);
    page.type_into("s2s-input", "101").await;
    let refusal = page.text("s2s-input-error").await;
    assert!(refusal.contains('+'), "{refusal}");
    // A drawn input replaces it, written as a learner would type a sum, and is decoded.
    page.click("s2s-another").await;
    let drawn = page.value("s2s-input").await;
    assert!(drawn.contains(" + "), "{drawn}");
    assert!(page.exists("decoding-output").await);
    page.click("s2s-another").await;
    assert_ne!(page.value("s2s-input").await, drawn);
    page.wait_until(
        "the banner names the bad field",
        LOAD_TIMEOUT,
        async || page.execute("return document.body.textContent;").await,
        |text| text.as_str().is_some_and(|t| t.contains("s2sHidden")),
    )
    .await;
}

/// On a phone (390 pixels wide) the page reflows into one column: nothing is wider than the
/// screen.
#[tokio::test]
async fn the_page_fits_a_phone() {
    let page = Page::launch().await;
    page.resize(390, 844).await;
    page.open("/#page=seq2seq").await;
    page.wait_for("seq2seq-page", LOAD_TIMEOUT).await;
    page.wait_for("attention-matrix", LOAD_TIMEOUT).await;
    let (scroll, client) = page.widths().await;
    assert!(
        scroll <= client,
        "the page is {scroll} px wide on a {client} px screen"
    );
    page.screenshot("seq2seq_phone_top").await;
    for (id, name) in [
        ("s2s-decoding-title", "seq2seq_phone_decoding"),
        ("s2s-embeddings-title", "seq2seq_phone_embeddings"),
    ] {
        page.execute_with(
            "document.getElementById(arguments[0]).scrollIntoView();",
            vec![Value::from(id)],
        )
        .await;
        page.screenshot(name).await;
    }
}
