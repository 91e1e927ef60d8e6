//! Why the GPU backend could not do something, in words a user can act on.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GpuError {
    /// No adapter: no WebGPU in this browser, or no GPU driver natively.
    NoAdapter(String),
    /// The adapter refused to create a device (limits or features it lacks).
    Device(String),
    /// A shader failed to compile or a pipeline failed validation.
    Pipeline {
        kernel: &'static str,
        message: String,
    },
    /// A dispatch or copy was rejected, or the device was lost.
    Dispatch(String),
    /// Reading a buffer back to the CPU failed.
    Readback(String),
    /// Tensors of the wrong shapes were passed to a kernel.
    Shape(String),
    /// A model uses something the GPU backend does not run (an op with no kernel).
    Unsupported(String),
}

impl fmt::Display for GpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuError::NoAdapter(reason) => write!(f, "no GPU adapter: {reason}"),
            GpuError::Device(reason) => write!(f, "the GPU adapter gave no device: {reason}"),
            GpuError::Pipeline { kernel, message } => {
                write!(f, "the GPU kernel `{kernel}` failed to build: {message}")
            }
            GpuError::Dispatch(reason) => write!(f, "the GPU rejected the work: {reason}"),
            GpuError::Readback(reason) => write!(f, "reading back from the GPU failed: {reason}"),
            GpuError::Shape(reason) => write!(f, "wrong shapes for a GPU kernel: {reason}"),
            GpuError::Unsupported(what) => write!(f, "the GPU backend cannot run {what}"),
        }
    }
}

impl std::error::Error for GpuError {}
