//! The Seq2seq page: an encoder-decoder (the course's last sequence model) trained live on
//! reversing, sorting or adding in the same training worker as every other page, with
//! attention switched on or off; a typed input decoded step by step with its attention matrix,
//! the answers by input length with and without attention, and the learned embeddings.

mod attention_lengths;
mod attention_matrix;
mod decoding_view;
mod embedding_view;
mod page;
mod setup_card;

pub use page::Seq2SeqPage;
