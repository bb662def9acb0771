//! The library's one error type. Every message names the thing at fault and what was expected.

use std::path::PathBuf;

/// Everything that can go wrong inside remul's GPU engine, layers and training loop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No adapter matched the request; the message says how to install a software one.
    #[error("no GPU adapter found{filter}. {hint}")]
    NoAdapter {
        /// The backend / name filter that was applied, for the message.
        filter: String,
        /// How to get an adapter on this machine.
        hint: &'static str,
    },

    /// The adapter refused to create a device with the features and limits remul needs.
    #[error("could not create a device on adapter '{adapter}': {source}")]
    RequestDevice {
        /// Adapter name.
        adapter: String,
        /// wgpu's reason.
        source: wgpu::RequestDeviceError,
    },

    /// A WGSL shader failed to compile or validate.
    #[error("shader {file} failed to compile:\n{message}")]
    Shader {
        /// File name under `shaders/`.
        file: &'static str,
        /// naga's (or the driver's) message.
        message: String,
    },

    /// wgpu reported a validation or out-of-memory error while remul was using the device.
    #[error("GPU error during {context}: {message}")]
    Gpu {
        /// What remul was doing.
        context: String,
        /// wgpu's message.
        message: String,
    },

    /// The device was lost (driver reset, GPU removed) and cannot be used any more.
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),

    /// Mapping a staging buffer for readback failed.
    #[error("reading a buffer back from the GPU failed: {0}")]
    Readback(String),

    /// Two tensors or a tensor and a layer disagree about a shape.
    #[error("shape mismatch in {op}: expected {expected}, got {got}")]
    Shape {
        /// The operation that checked the shape.
        op: &'static str,
        /// What it expected, e.g. `[batch, 64]`.
        expected: String,
        /// What it was given.
        got: String,
    },

    /// A value that must be finite or in range was not.
    #[error("invalid value for {what}: {detail}")]
    InvalidValue {
        /// The field, argument or tensor at fault.
        what: String,
        /// What was wrong and what was expected.
        detail: String,
    },

    /// A dataset file or directory was missing or malformed.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),

    /// A checkpoint file is malformed or does not fit the model it is loaded into.
    #[error("checkpoint {path}: {detail}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// `Result` with remul's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
