//! The one error type of the data layer: every message names the file, field, shape or
//! value at fault and what was expected.

use std::path::PathBuf;

/// Everything that can go wrong while generating, reading, writing or batching data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// An operating-system error while reading or writing `path`.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder being accessed.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },

    /// A file that a split needs does not exist.
    #[error("missing file {path} (needed for the {split} split)")]
    MissingFile {
        /// The file that was looked for.
        path: PathBuf,
        /// The split that needs it.
        split: String,
    },

    /// The file is not a `.npy` file, or its header cannot be parsed.
    #[error("{path}: not a valid .npy file: {reason}")]
    BadNpy {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The `.npy` file stores a dtype other than little-endian float64 or float32.
    #[error(
        "{path}: unsupported dtype '{descr}'; expected '<f8' (little-endian float64) \
         or '<f4' (little-endian float32)"
    )]
    UnsupportedDtype {
        /// The file.
        path: PathBuf,
        /// The dtype string found in the header.
        descr: String,
    },

    /// The `.npy` file stores its array in Fortran (column-major) order.
    #[error("{path}: fortran_order is True; only C-order (row-major) arrays are supported")]
    FortranOrder {
        /// The file.
        path: PathBuf,
    },

    /// The `.npy` file holds fewer (or more) data bytes than its header promises.
    #[error(
        "{path}: truncated or oversized file: shape {shape:?} needs {expected} data bytes, \
         found {found}"
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The shape from the header.
        shape: Vec<usize>,
        /// Data bytes the shape needs.
        expected: u64,
        /// Data bytes actually present after the header.
        found: u64,
    },

    /// An array has the wrong shape, or shapes disagree between the files of one split.
    #[error("{path}: shape {found:?} does not fit: {expected}")]
    Shape {
        /// The file whose shape is wrong.
        path: PathBuf,
        /// The shape found.
        found: Vec<usize>,
        /// What was expected, in words.
        expected: String,
    },

    /// A value in a file is NaN or infinite.
    #[error("{path}: non-finite value {value} in sample {sample}, field {field}")]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// The sample (first array index).
        sample: usize,
        /// The field and the position inside the sample, e.g. `loc[frame 30, xyz 1, particle 2]`.
        field: String,
        /// The offending value.
        value: f64,
    },

    /// Values that must agree between files do not (e.g. `edges` is not `q qᵀ`).
    #[error("{path}: inconsistent data in sample {sample}: {reason}")]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// The sample.
        sample: usize,
        /// What disagrees.
        reason: String,
    },

    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// A graph handed to a [`GraphSet`](super::GraphSet) is malformed.
    #[error("invalid graph: {0}")]
    InvalidGraph(String),

    /// A sample index is not below the dataset's length.
    #[error("sample index {index} is out of range for a dataset of {len} graphs")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The dataset's length.
        len: usize,
    },
}

impl DataError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
