//! Data sets: the 2-D generators of the playground and the input features computed from them,
//! the digits, and the sequence tasks of recurrent networks.
//!
//! Everything here is a pure function of its arguments (a seed included), so a URL that names a
//! data set, a noise level and a seed reproduces the same points everywhere.

pub mod digits;
pub mod examples;
pub mod features;
pub mod generators;
pub mod idx;
pub mod kept_digits;
pub mod point;
pub mod points_csv;
pub mod sequences;
pub mod translation;

pub use features::{Feature, features_to_tensor};
pub use generators::{DatasetKind, generate, split_train_test};
pub use point::{Point, points_to_targets};
