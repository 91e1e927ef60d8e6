//! `EngineError`: everything that can go wrong in the engine, phrased for a learner.

use std::fmt;

/// An error from the engine. Messages are meant to be shown to the user as they are.
#[derive(Clone, Debug, PartialEq)]
pub enum EngineError {
    /// Two tensors do not fit together in an operation.
    ShapeMismatch {
        op: &'static str,
        expected: String,
        found: String,
    },
    /// A model, layer or training setting that cannot work (zero neurons, batch size 0, ...).
    InvalidConfig(String),
    /// A value became NaN or infinite (usually a learning rate that is too large).
    NonFinite(String),
    /// A node, parameter, layer or neuron index that does not exist.
    OutOfRange(String),
    /// The operations were called in an order that cannot work (backward before forward, ...).
    InvalidState(String),
    /// The device that ran the engine failed (a lost GPU, a kernel it rejected): the work
    /// can go on on another engine.
    DeviceFailed(String),
}

impl EngineError {
    pub(crate) fn shape(
        op: &'static str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        EngineError::ShapeMismatch {
            op,
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::ShapeMismatch {
                op,
                expected,
                found,
            } => write!(f, "{op}: expected {expected}, found {found}"),
            EngineError::InvalidConfig(message)
            | EngineError::NonFinite(message)
            | EngineError::OutOfRange(message)
            | EngineError::InvalidState(message)
            | EngineError::DeviceFailed(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for EngineError {}
