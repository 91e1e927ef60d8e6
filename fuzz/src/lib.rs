//! What each fuzz target does with one input: read it as the product reads outside input (a
//! link, IDX files, a model file, work kept in the browser, a CSV of points), then use whatever
//! was accepted as the page would (build it, draw it, train a step), so that an input the
//! readers let through cannot crash what follows either. A reader may refuse anything; it may
//! never panic, hang or allocate without bound. The targets in `targets/` call these on
//! honggfuzz's inputs; `tests/regressions.rs` calls them on the committed seeds and on every
//! input that once crashed.

use std::sync::OnceLock;

use neural_playground::data::digits::{DigitSet, PIXELS};
use neural_playground::data::kept_digits::{read_kept_digits, write_kept_digits};
use neural_playground::data::points_csv::read_points_csv;
use neural_playground::engine::checkpoint::read_checkpoint;
use neural_playground::engine::{Model, read_model};
use neural_playground::playground::images::training::{TrainingRun, saved_run_settings};
use neural_playground::playground::model_files::{
    open_images_file, open_playground_file, open_seq2seq_file, open_sequences_file,
};
use neural_playground::playground::model_link::decode_model;
use neural_playground::playground::sequences::decoding::{decode, parse_input};
use neural_playground::playground::url_state::rejected_fields_message;
use neural_playground::playground::{PlaygroundConfig, Session, from_hash};

/// What a target does with one input.
pub type Target = fn(&[u8]);

/// The targets, by name, as `cargo xtask fuzz` and the regression test know them.
pub const TARGETS: [(&str, Target); 5] = [
    ("link", link),
    ("idx", idx),
    ("model_file", model_file),
    ("saved_work", saved_work),
    ("points_csv", points_csv),
];

/// A page's link (the text after `#`): the playground's set-up and weights, the Images,
/// Sequences and Seq2seq pages' settings, and a model carried in the link; each page's network
/// built and the playground drawn. The text is also typed into the Seq2seq page's input.
pub fn link(data: &[u8]) {
    let Ok(hash) = std::str::from_utf8(data) else {
        return;
    };
    let (config, rejected) = from_hash(hash);
    if let Some(message) = rejected_fields_message(&rejected) {
        assert!(
            message.chars().count() <= 400,
            "the banner repeats the link at length"
        );
    }
    if let Ok(mut session) = Session::new(config.clone()) {
        session
            .snapshot()
            .expect("a playground built from a link can be drawn");
        if config.example.is_some() {
            session
                .backprop_trace(0)
                .expect("the stepper traces the link's own example");
        }
    }
    if config.images.validate().is_ok() {
        let _ = config.images.model.init();
    }
    if config.sequences.validate().is_ok() {
        let _ = config.sequences.model().init();
        let _ = config.sequences.run_settings().sequences();
    }
    if config.seq2seq.validate().is_ok()
        && let Ok(network) = config.seq2seq.model().init()
        && let Ok(input) = parse_input(config.seq2seq.task, hash, config.seq2seq.longest)
    {
        decode(&network, &input).expect("a typed input that reads decodes");
    }
    if let Some(field) = &config.model_link
        && let Ok(bytes) = decode_model(field)
    {
        let _ = open_images_file(&bytes);
        let _ = open_sequences_file(&bytes);
        let _ = open_seq2seq_file(&bytes);
    }
}

/// A pair of IDX files (plain or gzipped), the first byte saying where the labels file starts;
/// also the whole input as the default digits' file and as digits kept in the browser.
pub fn idx(data: &[u8]) {
    if let Some((&split, rest)) = data.split_first() {
        let at = usize::from(split) * rest.len() / 256;
        let (images, labels) = rest.split_at(at);
        if let Ok(digits) = DigitSet::from_idx(images, labels, "fuzzed") {
            assert_eq!(digits.pixels.len(), digits.len() * PIXELS);
            let kept = write_kept_digits(&digits).expect("read digits can be kept");
            assert_eq!(read_kept_digits(&kept).as_ref(), Ok(&digits));
        }
    }
    let _ = DigitSet::from_npm_file(data, "fuzzed");
    let _ = read_kept_digits(data);
}

/// A model file, opened on each page that opens model files, and its network run once.
pub fn model_file(data: &[u8]) {
    if let Ok(opened) = read_model(data) {
        let network = &opened.network;
        let values: usize = network.config().input.iter().product();
        network
            .layer_outputs(&vec![0.5; values])
            .expect("an opened network runs");
    }
    if let Ok((_, config)) = open_playground_file(data) {
        Model::new(&config.model_config()).expect("an opened set-up builds");
    }
    let _ = open_images_file(data);
    let _ = open_sequences_file(data);
    if let Ok((network, _settings)) = open_seq2seq_file(data) {
        decode(&network, &[0]).expect("an opened encoder-decoder decodes");
    }
}

/// The digits a kept run on the Images page trained on, as the fuzzed runs open them.
fn kept_run_digits() -> &'static DigitSet {
    static DIGITS: OnceLock<DigitSet> = OnceLock::new();
    DIGITS.get_or_init(|| DigitSet::halves(200))
}

/// Work kept in the browser: the playground's (opened, trained an epoch and drawn) and a
/// training run's (opened, stepped and tested).
pub fn saved_work(data: &[u8]) {
    let _ = read_checkpoint(data);
    let _ = saved_run_settings(data);
    if let Ok(opened) = Session::open_work(data) {
        let mut session = opened.session;
        let _ = session.train_epoch();
        session.snapshot().expect("opened work can be drawn");
    }
    if let Ok((mut run, _page)) = TrainingRun::open_saved(data, Some(kept_run_digits())) {
        let _ = run.step();
        let _ = run.evaluate();
    }
}

/// A CSV of 2-D points, opened as the playground's data and trained on for an epoch.
pub fn points_csv(data: &[u8]) {
    if let Ok(file) = read_points_csv(data) {
        let mut session =
            Session::new(PlaygroundConfig::default()).expect("the default playground builds");
        if session.adopt_points("fuzzed.csv", file).is_ok() {
            let _ = session.train_epoch();
            session.snapshot().expect("opened points can be drawn");
        }
    }
}
