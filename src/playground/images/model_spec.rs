//! The model builder's vocabulary: the preset networks and the output-size formula of a
//! convolution or pooling written out with its numbers. The kinds of layer a learner can add, with
//! their first settings and titles, are `LayerConfig`'s (`engine::layers`).

use crate::engine::{Activation, LayerConfig, LayerSummary, Pooling, SequentialConfig};

/// The networks the page offers ready-made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// The course's multi-layer perceptron 784-512-512-10.
    Mlp,
    LeNet5,
    SmallCnn,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::LeNet5, Preset::Mlp, Preset::SmallCnn];

    pub fn key(self) -> &'static str {
        match self {
            Preset::Mlp => "mlp",
            Preset::LeNet5 => "lenet5",
            Preset::SmallCnn => "small-cnn",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Preset::Mlp => "MLP 784-512-512-10 (the course's)",
            Preset::LeNet5 => "LeNet-5",
            Preset::SmallCnn => "Small modern CNN",
        }
    }

    pub fn from_key(key: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|preset| preset.key() == key)
    }

    pub fn config(self) -> SequentialConfig {
        match self {
            Preset::Mlp => SequentialConfig::mlp(),
            Preset::LeNet5 => SequentialConfig::lenet5(Activation::Relu, Pooling::Max),
            Preset::SmallCnn => SequentialConfig::small_cnn(),
        }
    }

    /// The preset a configuration is, if it is one unchanged.
    pub fn of(config: &SequentialConfig) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|preset| preset.config().layers == config.layers)
    }
}

/// `[16, 5, 5]` as "16x5x5", `[120]` as "120".
pub fn shape_text(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

/// The size formula `n_out = (n_in + 2p - k)/s + 1` of a convolution or pooling on maps of side
/// `n_in`, with its numbers, e.g. "(28 + 2·2 − 5)/1 + 1 = 28"; a division that is not whole
/// is written as such ("... = 12.5: does not fit").
pub fn size_formula(layer: &LayerConfig, n_in: usize) -> Option<String> {
    let (kernel, stride, padding) = layer.window()?;
    let span = (n_in + 2 * padding) as i64 - kernel as i64;
    let head = format!("({n_in} + 2·{padding} − {kernel})/{stride} + 1");
    if stride == 0 {
        return Some(format!("{head}: a stride of 0 never moves"));
    }
    if span < 0 {
        return Some(format!(
            "{head}: the window is larger than the padded input"
        ));
    }
    let stride = stride as i64;
    Some(if span % stride == 0 {
        format!("{head} = {}", span / stride + 1)
    } else {
        format!(
            "{head} = {:.2}: not whole, the last {} pixels are never covered",
            span as f64 / stride as f64 + 1.0,
            span % stride
        )
    })
}

/// The side of the square maps a layer receives: the input's for the first layer, the previous
/// layer's output otherwise (`None` once the maps are flattened).
pub fn input_side(
    config: &SequentialConfig,
    summaries: &[LayerSummary],
    index: usize,
) -> Option<usize> {
    if index == 0 {
        return Some(config.input[1]);
    }
    let shape = &summaries.get(index - 1)?.output_shape;
    (shape.len() == 3).then(|| shape[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_show_their_numbers() {
        let c1 = SequentialConfig::lenet5(Activation::Relu, Pooling::Max).layers[0];
        assert_eq!(size_formula(&c1, 28).unwrap(), "(28 + 2·2 − 5)/1 + 1 = 28");
        let pool = LayerConfig::pool(Pooling::Max, 2);
        assert_eq!(
            size_formula(&pool, 28).unwrap(),
            "(28 + 2·0 − 2)/2 + 1 = 14"
        );
        assert!(size_formula(&pool, 5).unwrap().contains("not whole"));
        let big = LayerConfig::conv(1, 9, Activation::Relu);
        assert!(size_formula(&big, 5).unwrap().contains("larger"));
        assert_eq!(size_formula(&LayerConfig::FLATTEN, 5), None);
    }

    #[test]
    fn presets_are_recognised_and_new_layers_exist() {
        for preset in Preset::ALL {
            assert_eq!(Preset::of(&preset.config()), Some(preset));
            assert_eq!(Preset::from_key(preset.key()), Some(preset));
        }
        for kind in LayerConfig::KEYS {
            assert_eq!(LayerConfig::first_of_kind(kind).unwrap().name(), *kind);
            assert!(LayerConfig::title_of_kind(kind).is_some());
        }
    }

    #[test]
    fn input_sides_follow_the_summaries() {
        let config = SequentialConfig::lenet5(Activation::Relu, Pooling::Max);
        let summaries = config.summary().unwrap();
        assert_eq!(input_side(&config, &summaries, 0), Some(28));
        assert_eq!(input_side(&config, &summaries, 2), Some(14));
        assert_eq!(input_side(&config, &summaries, 5), None);
    }
}
