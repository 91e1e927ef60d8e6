//! How each engine choice (an activation, a loss, an optimiser, a weight penalty) is named
//! everywhere: the key that links and menus store, the title that menus show, a short name for
//! tight labels and its formula, written once beside the enum ([`Described`]) and read by the
//! URL, the menus, the explorers and the backprop stepper alike.

/// The words for one value of an engine enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Description {
    /// In links and menu values. Published links hold it: never change one.
    pub key: &'static str,
    /// In menus and legends: "Leaky ReLU", "SGD + momentum".
    pub title: &'static str,
    /// Where room is short, and as the function's symbol in formulas: "σ", "LeakyReLU".
    pub short: &'static str,
    /// The definition as the course writes it, in `x` (or `p`, `y` for a loss).
    pub formula: &'static str,
}

impl Description {
    pub const fn new(
        key: &'static str,
        title: &'static str,
        short: &'static str,
        formula: &'static str,
    ) -> Description {
        Description {
            key,
            title,
            short,
            formula,
        }
    }
}

/// An engine enum whose every value has a [`Description`].
pub trait Described: Copy + PartialEq + Sized + 'static {
    /// Every value, in menu order.
    fn every() -> &'static [Self];

    fn describe(self) -> Description;

    fn key(self) -> &'static str {
        self.describe().key
    }

    fn title(self) -> &'static str {
        self.describe().title
    }

    /// The value whose key is `key`.
    fn from_key(key: &str) -> Option<Self> {
        Self::every()
            .iter()
            .copied()
            .find(|value| value.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Activation, Loss, OptimizerKind, Regularization};

    fn distinct_and_round_trip<T: Described + std::fmt::Debug>() {
        let values = T::every();
        for (i, value) in values.iter().enumerate() {
            let words = value.describe();
            assert_eq!(T::from_key(words.key), Some(*value));
            assert!(!words.title.is_empty() && !words.short.is_empty());
            assert!(!words.formula.is_empty(), "{value:?} has no formula");
            for other in &values[i + 1..] {
                assert_ne!(words.key, other.key(), "{value:?} and {other:?}");
                assert_ne!(words.title, other.title(), "{value:?} and {other:?}");
            }
        }
        assert_eq!(T::from_key("no such key"), None);
    }

    #[test]
    fn every_value_has_its_own_key_and_title_and_a_formula() {
        distinct_and_round_trip::<Activation>();
        distinct_and_round_trip::<Loss>();
        distinct_and_round_trip::<OptimizerKind>();
        distinct_and_round_trip::<Regularization>();
    }

    /// Links written before the keys moved here hold these words: they must keep working.
    #[test]
    fn published_link_keys_stay() {
        let activations = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "gelu"];
        for (value, key) in Activation::ALL.into_iter().zip(activations) {
            assert_eq!(value.key(), key);
        }
        let losses = ["mse", "half-se", "mae", "bce", "softmax-ce"];
        for (value, key) in Loss::ALL.into_iter().zip(losses) {
            assert_eq!(value.key(), key);
        }
        let optimizers = ["sgd", "momentum", "adagrad", "rmsprop", "adam"];
        for (value, key) in OptimizerKind::ALL.into_iter().zip(optimizers) {
            assert_eq!(value.key(), key);
        }
        let penalties = ["none", "l1", "l2"];
        for (value, key) in Regularization::ALL.into_iter().zip(penalties) {
            assert_eq!(value.key(), key);
        }
    }
}
