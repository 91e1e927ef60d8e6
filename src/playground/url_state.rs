//! The configuration as a URL hash (`#dataset=xor&layers=4,2&...`), so a link reproduces a
//! set-up. Reading is forgiving: a bad field falls back to its default and is reported by name.

use super::config::{InitChoice, PlaygroundConfig, ProblemType};
use super::images::settings_url;
use super::model_link::MAX_LINK_CHARS;
use super::page::Page;
use super::sequences;
use crate::data::{DatasetKind, Feature};
use crate::engine::{Activation, Described, Loss, OptimizerKind, Regularization};

/// Writes the whole configuration as a hash, without the leading `#`.
pub fn to_hash(config: &PlaygroundConfig) -> String {
    let join = |items: Vec<String>| items.join(",");
    let fields = [
        ("page", config.page.key().to_string()),
        ("dataset", config.dataset.key().to_string()),
        ("noise", config.noise.to_string()),
        ("trainFraction", config.train_fraction.to_string()),
        ("points", config.point_count.to_string()),
        ("dataSeed", config.data_seed.to_string()),
        (
            "features",
            join(
                config
                    .features
                    .iter()
                    .map(|f| f.key().to_string())
                    .collect(),
            ),
        ),
        (
            "layers",
            join(config.hidden_layers.iter().map(|n| n.to_string()).collect()),
        ),
        (
            "activations",
            join(
                config
                    .activations
                    .iter()
                    .map(|a| a.key().to_string())
                    .collect(),
            ),
        ),
        ("init", config.init.key().to_string()),
        ("loss", config.loss.key().to_string()),
        ("optimizer", config.optimizer.key().to_string()),
        ("learningRate", config.learning_rate.to_string()),
        ("batchSize", config.batch_size.to_string()),
        ("regularization", config.regularization.key().to_string()),
        ("regularizationRate", config.regularization_rate.to_string()),
        ("problem", config.problem.key().to_string()),
        ("showTest", config.show_test_data.to_string()),
        ("discretize", config.discretize.to_string()),
        ("seed", config.seed.to_string()),
    ];
    let numbers = |values: &[f32]| {
        values
            .iter()
            .map(f32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let optional = [
        ("lesson", config.lesson.clone()),
        ("example", config.example.as_deref().map(numbers)),
        (
            "exampleLabel",
            config
                .example
                .as_ref()
                .map(|_| config.example_label.to_string()),
        ),
        ("parameters", config.parameters.as_deref().map(numbers)),
    ];
    let present = optional
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)));
    fields
        .into_iter()
        .chain(present)
        .chain(settings_url::fields(&config.images))
        .chain(sequences::settings::fields(&config.sequences))
        .chain(sequences::seq2seq_settings::fields(&config.seq2seq))
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Reads a hash (with or without `#`). Returns the configuration and the names of the fields
/// that could not be read (they keep their defaults).
pub fn from_hash(hash: &str) -> (PlaygroundConfig, Vec<String>) {
    let mut config = PlaygroundConfig::default();
    let mut rejected = Vec::new();
    let mut layers_given = false;
    for pair in hash
        .trim_start_matches('#')
        .split('&')
        .filter(|pair| !pair.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let accepted = apply_field(&mut config, key, value);
        layers_given |= key == "layers" && accepted;
        if !accepted {
            rejected.push(key.to_string());
        }
    }
    if layers_given && config.activations.len() != config.hidden_layers.len() {
        let fill = config
            .activations
            .first()
            .copied()
            .unwrap_or(Activation::Tanh);
        config.activations.resize(config.hidden_layers.len(), fill);
    }
    config.normalise();
    // The stepper's own example gives one value per input feature.
    if config
        .example
        .as_ref()
        .is_some_and(|example| example.len() != config.features.len())
    {
        config.example = None;
        rejected.push("example".to_string());
    }
    (config, rejected)
}

/// The most rejected fields a message names, and the longest name it repeats.
const NAMED_FIELDS: usize = 6;
const LONGEST_NAME: usize = 40;

/// What the banner says when some fields of a link could not be read: their names, each cut
/// to [`LONGEST_NAME`] characters, the first [`NAMED_FIELDS`] of them.
pub fn rejected_fields_message(rejected: &[String]) -> Option<String> {
    if rejected.is_empty() {
        return None;
    }
    let shown = |name: &String| match name.char_indices().nth(LONGEST_NAME) {
        Some((cut, _)) => format!("{}…", &name[..cut]),
        None => name.clone(),
    };
    let mut names: Vec<String> = rejected.iter().take(NAMED_FIELDS).map(shown).collect();
    if rejected.len() > NAMED_FIELDS {
        names.push(format!("and {} more", rejected.len() - NAMED_FIELDS));
    }
    Some(format!(
        "Some settings in the link could not be read and were reset to their defaults: {}.",
        names.join(", ")
    ))
}

/// Sets one field from its URL text; false if the text is not a valid value for it.
fn apply_field(config: &mut PlaygroundConfig, key: &str, value: &str) -> bool {
    fn set<T>(slot: &mut T, parsed: Option<T>) -> bool {
        parsed.map(|value| *slot = value).is_some()
    }
    let positive = |text: &str| {
        text.parse::<f32>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
    };
    let non_negative = |text: &str| {
        text.parse::<f32>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    let flag = |text: &str| text.parse::<bool>().ok();
    fn list(text: &str) -> impl Iterator<Item = String> + '_ {
        text.split(',')
            .filter(|item| !item.is_empty())
            .map(str::to_string)
    }
    match key {
        "model" => {
            let url_safe = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
            let fits = value.len() <= MAX_LINK_CHARS && value.bytes().all(url_safe);
            if fits {
                config.model_link = Some(value.into());
            }
            fits
        }
        "page" => set(&mut config.page, Page::from_key(value)),
        "dataset" => set(&mut config.dataset, DatasetKind::from_key(value)),
        "noise" => set(&mut config.noise, non_negative(value).filter(|v| *v <= 0.5)),
        "trainFraction" => set(
            &mut config.train_fraction,
            positive(value).filter(|v| (0.1..=0.9).contains(v)),
        ),
        "points" => set(
            &mut config.point_count,
            value.parse().ok().filter(|n| (10..=2000).contains(n)),
        ),
        "dataSeed" => set(&mut config.data_seed, value.parse().ok()),
        "features" => {
            let features: Option<Vec<Feature>> =
                list(value).map(|k| Feature::from_key(&k)).collect();
            set(&mut config.features, features.filter(|f| !f.is_empty()))
        }
        "layers" => {
            let sizes: Option<Vec<usize>> = list(value)
                .map(|n| {
                    n.parse()
                        .ok()
                        .filter(|n| (1..=super::config::MAX_NEURONS).contains(n))
                })
                .collect();
            set(
                &mut config.hidden_layers,
                sizes.filter(|s| s.len() <= super::config::MAX_HIDDEN_LAYERS),
            )
        }
        "activations" => {
            let activations: Option<Vec<Activation>> = list(value)
                .map(|name| Activation::from_key(&name))
                .collect();
            set(&mut config.activations, activations)
        }
        "init" => set(&mut config.init, InitChoice::from_key(value)),
        "loss" => set(&mut config.loss, Loss::from_key(value)),
        "optimizer" => set(&mut config.optimizer, OptimizerKind::from_key(value)),
        "learningRate" => set(&mut config.learning_rate, positive(value)),
        "batchSize" => set(
            &mut config.batch_size,
            value.parse().ok().filter(|n| (1..=1000).contains(n)),
        ),
        "regularization" => set(&mut config.regularization, Regularization::from_key(value)),
        "regularizationRate" => set(&mut config.regularization_rate, non_negative(value)),
        "problem" => set(&mut config.problem, ProblemType::from_key(value)),
        "showTest" => set(&mut config.show_test_data, flag(value)),
        "discretize" => set(&mut config.discretize, flag(value)),
        "seed" => set(&mut config.seed, value.parse().ok()),
        "lesson" => set(
            &mut config.lesson,
            super::lessons::find(value).map(|l| Some(l.id.to_string())),
        ),
        "parameters" => set(&mut config.parameters, finite_numbers(value).map(Some)),
        "example" => set(&mut config.example, finite_numbers(value).map(Some)),
        "exampleLabel" => set(
            &mut config.example_label,
            value.parse().ok().filter(|v: &f32| v.is_finite()),
        ),
        _ => settings_url::apply_field(&mut config.images, key, value)
            .or_else(|| sequences::settings::apply_field(&mut config.sequences, key, value))
            .or_else(|| sequences::seq2seq_settings::apply_field(&mut config.seq2seq, key, value))
            .unwrap_or(false),
    }
}

/// A comma-separated list of finite numbers.
fn finite_numbers(text: &str) -> Option<Vec<f32>> {
    text.split(',')
        .map(|item| item.trim().parse::<f32>().ok().filter(|v| v.is_finite()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stepper example with another number of values than the network has inputs is refused
    /// by name (it reached the engine, which said "tensor: expected 2 values").
    #[test]
    fn an_example_must_fit_the_inputs() {
        let (config, rejected) = from_hash("#page=backprop&example=-1");
        assert_eq!(
            (config.example, rejected),
            (None, vec!["example".to_string()])
        );
        let (config, rejected) = from_hash("#page=backprop&example=0.5,-1");
        assert_eq!(config.example, Some(vec![0.5, -1.0]));
        assert!(rejected.is_empty());
        let (_, rejected) = from_hash("#example=1,2&features=x,y,xSquared");
        assert_eq!(rejected, ["example"]);
    }

    /// A link's unreadable field names are repeated cut short, and only the first few.
    #[test]
    fn the_message_about_rejected_fields_stays_short() {
        let long = "é".repeat(200_000);
        let (_, rejected) = from_hash(&format!("#{long}=1&points=x"));
        let message = rejected_fields_message(&rejected).expect("a message");
        assert!(
            message.chars().count() < 200,
            "{} characters",
            message.len()
        );
        assert!(
            message.contains(&format!("{}…", "é".repeat(40))),
            "{message}"
        );
        assert!(message.contains("points"), "{message}");
        let many: Vec<String> = (0..1000).map(|i| format!("bad{i}")).collect();
        let message = rejected_fields_message(&many).expect("a message");
        assert!(message.ends_with("bad5, and 994 more."), "{message}");
        assert_eq!(rejected_fields_message(&[]), None);
    }
    use crate::playground::images::model_spec::Preset;
    use crate::playground::images::training::RunSettings;

    #[test]
    fn a_configuration_survives_the_round_trip() {
        let config = PlaygroundConfig {
            dataset: DatasetKind::Spiral,
            hidden_layers: vec![8, 8, 5],
            activations: vec![Activation::Relu, Activation::Gelu, Activation::Sigmoid],
            features: vec![Feature::X1TimesX2, Feature::SinX1],
            loss: Loss::SoftmaxCrossEntropy,
            optimizer: OptimizerKind::RmsProp,
            learning_rate: 0.003,
            regularization: Regularization::L1,
            regularization_rate: 0.01,
            seed: 42,
            page: Page::Backprop,
            lesson: Some("single-layer".into()),
            parameters: Some(vec![3.0, 7.0, 4.0, 1.0, 0.5, -0.25]),
            example: Some(vec![1.0, 2.0]),
            example_label: 1.0,
            images: RunSettings {
                model: Preset::SmallCnn.config(),
                epochs: 4,
                learning_rate: 0.01,
                ..RunSettings::default()
            },
            ..PlaygroundConfig::default()
        };
        let hash = to_hash(&config);
        assert!(
            hash.ends_with("&imageModel=small-cnn&imageEpochs=4&imageRate=0.01"),
            "{hash}"
        );
        let (read, rejected) = from_hash(&hash);
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(read, config);
    }

    #[test]
    fn bad_fields_fall_back_and_are_named() {
        let (config, rejected) = from_hash("#learningRate=banana&layers=4,2&noise=-1&wat=3");
        assert_eq!(rejected, ["learningRate", "noise", "wat"]);
        assert_eq!(
            config.learning_rate,
            PlaygroundConfig::default().learning_rate
        );
        assert_eq!(config.hidden_layers, [4, 2]);
    }

    #[test]
    fn layers_without_activations_reuse_the_first_activation() {
        let (config, rejected) = from_hash("layers=3,3,3&activations=relu");
        assert!(rejected.is_empty());
        assert_eq!(config.activations, [Activation::Relu; 3]);
    }

    #[test]
    fn an_empty_layer_list_means_no_hidden_layer() {
        let (config, rejected) = from_hash("layers=");
        assert!(rejected.is_empty());
        assert!(config.hidden_layers.is_empty() && config.activations.is_empty());
    }

    #[test]
    fn too_many_or_too_large_layers_are_refused() {
        assert_eq!(from_hash("layers=1,1,1,1,1,1,1,1,1").1, ["layers"]);
        assert_eq!(from_hash("layers=17").1, ["layers"]);
        assert_eq!(from_hash("layers=0").1, ["layers"]);
    }

    #[test]
    fn regression_data_sets_force_a_regression_loss() {
        let (config, _) = from_hash("dataset=reg-plane&loss=bce");
        assert_eq!(config.problem, ProblemType::Regression);
        assert_eq!(config.loss, Loss::MeanSquaredError);
    }
}
