//! The playground's logic without any web dependency: its configuration, the URL that encodes
//! it, and the training session the views draw. Tested natively; the Yew views in `ui` only
//! display it and send it named messages.

pub mod activation_curves;
pub mod backend;
pub mod backprop;
pub mod boundary_text;
pub mod colors;
pub mod config;
pub mod convolution;
pub mod edge_style;
pub mod frame_budget;
pub mod grid;
pub mod images;
pub mod lessons;
pub mod loss_curve;
pub mod loss_examples;
pub mod model_files;
pub mod model_link;
pub mod one_weight;
pub mod optimizer_race;
pub mod page;
pub mod pytorch_export;
pub mod sequences;
pub mod session;
pub mod table_rows;
pub mod url_state;
pub mod word_counts;

pub use config::{PlaygroundConfig, ProblemType};
pub use grid::Grid;
pub use page::Page;
pub use session::{Session, Snapshot};
pub use url_state::{from_hash, to_hash};
