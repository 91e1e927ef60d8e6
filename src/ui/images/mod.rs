//! The Images page: train an image network on MNIST digits in a worker, watch it learn, draw a
//! digit and see what every layer makes of it.

mod confusion_view;
pub(crate) mod curves;
mod data_card;
mod digits_download;
pub mod draw_pad;
mod envelope;
mod gpu_slice;
mod kept_digits;
pub(crate) mod kept_run;
mod layer_filters;
mod layer_view;
mod model_builder;
mod pacing;
mod page;
pub(crate) mod probability_bars;
mod test_digits;
pub(crate) mod training_card;
mod training_loop;
mod value_image;
pub mod worker;
pub(crate) mod worker_link;

pub use page::ImagesPage;
