//! The Images page without web: the digits, a training run of an image network in steps, its
//! evaluation (accuracy, confusion matrix, predictions), feature maps, drawn digits, and the
//! messages between the page and its training worker.

pub mod confusion;
pub mod drawing;
pub mod model_spec;
pub mod protocol;
pub mod settings_url;
pub mod training;
