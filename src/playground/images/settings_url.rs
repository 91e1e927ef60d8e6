//! The Images page's run settings in the URL hash (`imageModel=lenet5&imageRate=0.001...`), so
//! that a link brings back the network and how it trains. Only settings that differ from the
//! defaults are written; reading is forgiving like the rest of the hash: a bad field keeps its
//! default and is reported by name.
//!
//! A model is written as a preset's key, or layer by layer, first to last, e.g.
//! `conv6k5p2-relu,max2,conv16k5-relu,max2,flat,dense120-relu,dense84-relu,dense10`:
//! `conv{out}k{kernel}[s{stride}][p{padding}][-{activation}]`, `max{size}[s{stride}]`,
//! `avg{size}[s{stride}]`, `flat`, `dense{outputs}[-{activation}]`, `bn`, `drop{rate}`.

use super::model_spec::Preset;
use super::training::RunSettings;
use crate::engine::{Described, LayerConfig, OptimizerKind, SequentialConfig};
use crate::playground::backend::Backend;

/// Most layers a link may describe.
const MAX_LAYERS: usize = 48;

/// `(key, value)` for every setting that differs from [`RunSettings::default`].
pub fn fields(settings: &RunSettings) -> Vec<(&'static str, String)> {
    let default = RunSettings::default();
    let mut fields = Vec::new();
    let mut differs = |key, changed: bool, value: String| {
        if changed {
            fields.push((key, value));
        }
    };
    differs(
        "imageModel",
        settings.model.layers != default.model.layers,
        model_text(&settings.model),
    );
    differs(
        "imageModelSeed",
        settings.model.seed != default.model.seed,
        settings.model.seed.to_string(),
    );
    differs(
        "imageEpochs",
        settings.epochs != default.epochs,
        settings.epochs.to_string(),
    );
    differs(
        "imageBatch",
        settings.batch_size != default.batch_size,
        settings.batch_size.to_string(),
    );
    differs(
        "imageOptimizer",
        settings.optimizer != default.optimizer,
        settings.optimizer.key().to_string(),
    );
    differs(
        "imageRate",
        settings.learning_rate != default.learning_rate,
        settings.learning_rate.to_string(),
    );
    differs(
        "imageDecay",
        settings.cosine_decay != default.cosine_decay,
        settings.cosine_decay.to_string(),
    );
    differs(
        "imageShift",
        settings.augment != default.augment,
        settings.augment.to_string(),
    );
    differs(
        "imageSeed",
        settings.seed != default.seed,
        settings.seed.to_string(),
    );
    differs(
        "imageBackend",
        settings.backend != default.backend,
        settings.backend.key().to_string(),
    );
    fields
}

/// Sets the setting `key` from its URL text: `None` if `key` is not an Images setting,
/// `Some(false)` if the text is not a valid value for it (the setting is left as it was).
pub fn apply_field(settings: &mut RunSettings, key: &str, value: &str) -> Option<bool> {
    fn set<T>(slot: &mut T, parsed: Option<T>) -> bool {
        parsed.map(|value| *slot = value).is_some()
    }
    let flag = |text: &str| text.parse::<bool>().ok();
    Some(match key {
        "imageModel" => set(&mut settings.model.layers, model_from_text(value)),
        "imageModelSeed" => set(&mut settings.model.seed, value.parse().ok()),
        "imageEpochs" => set(
            &mut settings.epochs,
            value.parse().ok().filter(|n| (1..=1000).contains(n)),
        ),
        "imageBatch" => set(
            &mut settings.batch_size,
            value.parse().ok().filter(|n| (1..=1024).contains(n)),
        ),
        "imageOptimizer" => set(&mut settings.optimizer, OptimizerKind::from_key(value)),
        "imageRate" => set(
            &mut settings.learning_rate,
            value
                .parse::<f32>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0),
        ),
        "imageDecay" => set(&mut settings.cosine_decay, flag(value)),
        "imageShift" => set(&mut settings.augment, flag(value)),
        "imageSeed" => set(&mut settings.seed, value.parse().ok()),
        "imageBackend" => set(&mut settings.backend, Backend::from_key(value)),
        _ => return None,
    })
}

/// A preset's key, or every layer's token (see the module's documentation).
pub fn model_text(model: &SequentialConfig) -> String {
    if let Some(preset) = Preset::of(model) {
        return preset.key().to_string();
    }
    model
        .layers
        .iter()
        .map(LayerConfig::token)
        .collect::<Vec<_>>()
        .join(",")
}

/// The layers of a preset's key or of a token list; `None` if any token cannot be read.
pub fn model_from_text(text: &str) -> Option<Vec<LayerConfig>> {
    if let Some(preset) = Preset::from_key(text) {
        return Some(preset.config().layers);
    }
    let layers: Option<Vec<LayerConfig>> = text
        .split(',')
        .map(|token| LayerConfig::from_token(token.trim()))
        .collect();
    layers.filter(|layers| !layers.is_empty() && layers.len() <= MAX_LAYERS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::OptimizerKind;
    use crate::engine::{Activation, AvgPool2d, Conv2d, Dropout, MaxPool2d};
    use crate::playground::images::training::RunData;

    fn read(pairs: &[(&str, &str)]) -> (RunSettings, Vec<String>) {
        let mut settings = RunSettings::default();
        let mut rejected = Vec::new();
        for (key, value) in pairs {
            if apply_field(&mut settings, key, value) != Some(true) {
                rejected.push(key.to_string());
            }
        }
        (settings, rejected)
    }

    #[test]
    fn the_defaults_write_nothing() {
        assert!(fields(&RunSettings::default()).is_empty());
    }

    #[test]
    fn every_setting_survives_the_round_trip() {
        let settings = RunSettings {
            model: SequentialConfig {
                layers: vec![
                    LayerConfig::Conv2d(Conv2d {
                        out_channels: 8,
                        kernel: 3,
                        stride: 2,
                        padding: 1,
                        activation: Activation::LeakyRelu,
                    }),
                    LayerConfig::BATCH_NORM,
                    LayerConfig::MaxPool2d(MaxPool2d { size: 3, stride: 1 }),
                    LayerConfig::AvgPool2d(AvgPool2d { size: 2, stride: 2 }),
                    LayerConfig::FLATTEN,
                    LayerConfig::Dropout(Dropout { rate: 0.25 }),
                    LayerConfig::dense(32, Activation::Gelu),
                    LayerConfig::dense(10, Activation::Linear),
                ],
                seed: 9,
                initializer: None,
                ..RunSettings::default().model
            },
            epochs: 3,
            batch_size: 32,
            optimizer: OptimizerKind::RmsProp,
            learning_rate: 0.0005,
            cosine_decay: false,
            augment: false,
            seed: 42,
            backend: Backend::Gpu,
            data: RunData::Digits,
            clip_norm: None,
            truncation: None,
        };
        let written = fields(&settings);
        assert_eq!(written.len(), 10, "{written:?}");
        assert_eq!(
            written[0].1,
            "conv8k3s2p1-leaky_relu,bn,max3s1,avg2,flat,drop0.25,dense32-gelu,dense10"
        );
        let pairs: Vec<(&str, &str)> = written.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (read_back, rejected) = read(&pairs);
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(read_back, settings);
    }

    #[test]
    fn presets_are_written_by_name() {
        for preset in Preset::ALL {
            let model = preset.config();
            assert_eq!(model_text(&model), preset.key());
            assert_eq!(model_from_text(preset.key()), Some(model.layers));
        }
    }

    #[test]
    fn lenet_written_as_layers_reads_as_lenet() {
        let lenet = Preset::LeNet5.config().layers;
        let text = "conv6k5p2-relu,max2,conv16k5-relu,max2,flat,dense120-relu,dense84-relu,dense10";
        assert_eq!(model_from_text(text), Some(lenet));
    }

    #[test]
    fn bad_values_are_refused_by_name_and_keep_the_defaults() {
        let (settings, rejected) = read(&[
            ("imageModel", "conv6k5-wat,flat,dense10"),
            ("imageEpochs", "0"),
            ("imageBatch", "many"),
            ("imageRate", "-1"),
            ("imageOptimizer", "lbfgs"),
            ("imageShift", "yes"),
            ("imageSeed", "7"),
        ]);
        assert_eq!(
            rejected,
            [
                "imageModel",
                "imageEpochs",
                "imageBatch",
                "imageRate",
                "imageOptimizer",
                "imageShift"
            ]
        );
        assert_eq!(
            settings,
            RunSettings {
                seed: 7,
                ..RunSettings::default()
            }
        );
        for text in [
            "", "conv0k3", "conv4", "max0", "drop1", "dense", "flat,", "max2s0",
        ] {
            assert_eq!(model_from_text(text), None, "{text}");
        }
        assert_eq!(
            apply_field(&mut RunSettings::default(), "noise", "0.1"),
            None
        );
    }
}
