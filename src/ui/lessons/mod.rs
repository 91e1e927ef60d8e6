//! Pages that each bring one worked example of the course to life: the document classifier of
//! Problem 2 and gradient descent on a single weight.

pub mod one_weight;
pub mod word_classifier;

pub use one_weight::OneWeight;
pub use word_classifier::WordClassifier;
