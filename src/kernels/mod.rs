//! One Rust wrapper per `shaders/*.wgsl` file, of the same stem: it owns the shader's source,
//! plans [`Dispatch`](crate::gpu::Dispatch)es with their parameters, checks shapes, and has a
//! CPU twin in f64 (`cpu_*` functions) that the tests compare the kernel against.

pub mod adam;
pub mod bias_act;
pub mod matmul;
pub mod mse;
pub mod reduce;

/// Every shader file, by name, for validation and error messages.
pub const SHADERS: &[(&str, &str)] = &[
    (adam::FILE, adam::SOURCE),
    (bias_act::FILE, bias_act::SOURCE),
    (bias_act::BACKWARD_FILE, bias_act::BACKWARD_SOURCE),
    (matmul::FILE, matmul::SOURCE),
    (mse::FILE, mse::SOURCE),
    (reduce::FILE, reduce::SOURCE),
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
