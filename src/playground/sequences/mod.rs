//! The Sequences page without the web: its set-up (what to train, in the link), a network
//! unrolled in time for one sequence, how a trained network does on longer sequences, the
//! counter built by hand, and an encoder-decoder's decoding of one input.

pub mod counter;
pub mod decoding;
pub mod embedding_map;
pub mod generalisation;
pub mod link_fields;
pub mod seq2seq_settings;
pub mod settings;
pub mod unrolled;

pub use settings::SequenceSettings;
pub use unrolled::{StepValues, Unrolled, parse_bits, parse_numbers, readable_lengths, unroll};
