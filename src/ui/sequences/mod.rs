//! The Sequences page: recurrent networks (RNN, LSTM, GRU) trained live on the course's bit
//! counting and its sister tasks in the same training worker as the Images page, and a network
//! unrolled in time for any sequence the learner types, tested on longer sequences, and a counter
//! built by hand.

mod counter_lesson;
mod gradient_chart;
mod length_chart;
mod page;
mod race;
mod setup_card;
mod unrolled_view;

pub use page::SequencesPage;
