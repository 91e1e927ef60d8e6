//! The Sequences page without the web: its set-up (what to train, in the link) and a network
//! unrolled in time for one sequence.

pub mod settings;
pub mod unrolled;

pub use settings::SequenceSettings;
pub use unrolled::{StepValues, Unrolled, parse_bits, unroll};
