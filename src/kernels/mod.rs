//! One Rust wrapper per `shaders/*.wgsl` file, of the same stem: it owns the shader's source,
//! plans [`Dispatch`](crate::gpu::Dispatch)es with their parameters, checks shapes, and has a
//! CPU twin in f64 (`cpu_*` functions) that the tests compare the kernel against.

pub mod adam;
pub mod bias_act;
pub mod coord_update;
pub mod edge_geometry;
pub mod gather;
pub mod gradnorm;
pub mod matmul;
pub mod mse;
pub mod peak_copy;
pub mod peak_fma;
pub mod reduce;
pub mod remul_loss;
pub mod rotate;
pub mod segment_sum;

/// Every shader file, by name, for validation and error messages.
pub const SHADERS: &[(&str, &str)] = &[
    (adam::FILE, adam::SOURCE),
    (bias_act::FILE, bias_act::SOURCE),
    (bias_act::BACKWARD_FILE, bias_act::BACKWARD_SOURCE),
    (coord_update::FILE, coord_update::SOURCE),
    (coord_update::BACKWARD_FILE, coord_update::BACKWARD_SOURCE),
    (edge_geometry::FILE, edge_geometry::SOURCE),
    (edge_geometry::BACKWARD_FILE, edge_geometry::BACKWARD_SOURCE),
    (gather::FILE, gather::SOURCE),
    (gradnorm::FILE, gradnorm::SOURCE),
    (matmul::FILE, matmul::SOURCE),
    (mse::FILE, mse::SOURCE),
    (peak_copy::FILE, peak_copy::SOURCE),
    (peak_fma::FILE, peak_fma::SOURCE),
    (reduce::FILE, reduce::SOURCE),
    (remul_loss::FILE, remul_loss::SOURCE),
    (rotate::FILE, rotate::SOURCE),
    (segment_sum::FILE, segment_sum::SOURCE),
];

use crate::{Error, Result, Tensor};

/// Errors with [`Error::Shape`] unless `t` has `expected` as its shape.
pub(crate) fn expect_shape(op: &'static str, t: &Tensor, expected: &[usize]) -> Result<()> {
    if t.shape() == expected {
        Ok(())
    } else {
        Err(Error::Shape {
            op,
            expected: format!("{expected:?}"),
            got: format!("{:?}", t.shape()),
        })
    }
}

/// The `[rows, cols]` of a tensor that must be a matrix.
pub(crate) fn matrix(op: &'static str, t: &Tensor) -> Result<(usize, usize)> {
    match *t.shape() {
        [r, c] => Ok((r, c)),
        _ => Err(Error::Shape {
            op,
            expected: "a matrix [rows, cols]".into(),
            got: format!("{:?}", t.shape()),
        }),
    }
}

/// Errors unless `n` fits the u32 indices kernels use.
pub(crate) fn as_u32(op: &'static str, n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::Shape {
        op,
        expected: "fewer than 2^32 elements".into(),
        got: n.to_string(),
    })
}

/// Columns `first..first + width` of every row of a matrix tensor `[rows, cols]`: kernels that
/// read or write part of a row (a slice of a concatenated input) take one of these.
#[derive(Debug, Clone, Copy)]
pub struct Cols<'a> {
    /// The whole matrix.
    pub tensor: &'a Tensor,
    /// First column.
    pub first: usize,
    /// Columns taken.
    pub width: usize,
}

impl<'a> Cols<'a> {
    /// Columns `first..first + width` of `tensor`.
    pub fn new(tensor: &'a Tensor, first: usize, width: usize) -> Self {
        Self {
            tensor,
            first,
            width,
        }
    }

    /// Every column of `tensor`.
    pub fn all(tensor: &'a Tensor) -> Self {
        let (_, cols) = tensor.rows_cols();
        Self::new(tensor, 0, cols)
    }

    /// Rows of the matrix.
    pub fn rows(&self) -> usize {
        self.tensor.rows_cols().0
    }

    /// Elements from one row to the next.
    pub fn stride(&self) -> usize {
        self.tensor.rows_cols().1
    }

    /// Errors unless the columns lie inside the matrix and it has `rows` rows (when given).
    pub(crate) fn check(&self, op: &'static str, rows: Option<usize>) -> Result<()> {
        let (r, c) = self.tensor.rows_cols();
        if self.first + self.width > c || rows.is_some_and(|n| n != r) {
            return Err(Error::Shape {
                op,
                expected: format!(
                    "columns {}..{} of a matrix with {} rows",
                    self.first,
                    self.first + self.width,
                    rows.map_or("any number of".to_string(), |n| n.to_string())
                ),
                got: format!("{:?}", self.tensor.shape()),
            });
        }
        Ok(())
    }
}

/// The uniform of the column-block kernels (gather, segment sum): rows of the output, columns
/// moved, and where the block sits in each matrix.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct BlockParams {
    rows: u32,
    width: u32,
    src_stride: u32,
    src_col: u32,
    dst_stride: u32,
    dst_col: u32,
    flags: u32,
    _pad: u32,
}

impl BlockParams {
    /// Checks that `src` and `dst` take as many columns and fit u32 indices.
    pub(crate) fn new(op: &'static str, src: Cols<'_>, dst: Cols<'_>, flags: u32) -> Result<Self> {
        if src.width != dst.width {
            return Err(Error::Shape {
                op,
                expected: format!("{} columns, as many as the output takes", dst.width),
                got: format!("{} columns", src.width),
            });
        }
        let rows = dst.rows();
        as_u32(op, rows * dst.width)?;
        Ok(Self {
            rows: as_u32(op, rows)?,
            width: as_u32(op, dst.width)?,
            src_stride: as_u32(op, src.stride())?,
            src_col: as_u32(op, src.first)?,
            dst_stride: as_u32(op, dst.stride())?,
            dst_col: as_u32(op, dst.first)?,
            flags,
            _pad: 0,
        })
    }
}
