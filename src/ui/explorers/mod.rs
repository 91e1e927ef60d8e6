//! Pages that explore one idea of the course on its own: activations, losses, optimizers.

pub mod activation_explorer;
pub mod contour_plot;
pub mod loss_explorer;
pub mod optimizer_race;

pub use activation_explorer::ActivationExplorer;
pub use loss_explorer::LossExplorer;
pub use optimizer_race::OptimizerRace;
