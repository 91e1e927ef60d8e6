//! Pages that each bring one worked example of the course to life: the document classifier of
//! Problem 2, gradient descent on a single weight, and convolution and pooling.

pub mod convolution;
pub mod one_weight;
mod pooling;
pub mod word_classifier;

pub use convolution::Convolution;
pub use one_weight::OneWeight;
pub use word_classifier::WordClassifier;
