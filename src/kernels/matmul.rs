//! Wrapper for `shaders/matmul.wgsl`: `C = op(A)·op(B)` in the layouts training needs.

use bytemuck::{Pod, Zeroable};

use super::{as_u32, expect_shape, matrix};
use crate::gpu::{groups_for, Dispatch, Engine};
use crate::{Error, Result, Tensor};

/// Shader file name.
pub const FILE: &str = "matmul.wgsl";
/// Shader source.
pub const SOURCE: &str = include_str!("../../shaders/matmul.wgsl");

/// Rows and columns of C one workgroup covers (16 invocations x 4 each).
const TILE: usize = 64;

/// Which operand is stored transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `C = A·B`: A `[m, k]`, B `[k, n]`.
    NN,
    /// `C = Aᵀ·B`: A stored `[k, m]`, B `[k, n]` (weight gradients).
    TN,
    /// `C = A·Bᵀ`: A `[m, k]`, B stored `[n, k]` (input gradients).
    NT,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    m: u32,
    n: u32,
    k: u32,
    accumulate: u32,
    a_row: u32,
    a_col: u32,
    b_row: u32,
    b_col: u32,
}

/// `(m, n, k)` of `op(A)·op(B)`, checking that the inner dimensions agree.
pub fn dims(a: &[usize], b: &[usize], layout: Layout) -> Result<(usize, usize, usize)> {
    let ([ar, ac], [br, bc]) = (a, b) else {
        return Err(Error::Shape {
            op: "matmul",
            expected: "two matrices".into(),
            got: format!("{a:?} and {b:?}"),
        });
    };
    let (m, ka) = match layout {
        Layout::TN => (*ac, *ar),
        _ => (*ar, *ac),
    };
    let (kb, n) = match layout {
        Layout::NT => (*bc, *br),
        _ => (*br, *bc),
    };
    if ka != kb {
        return Err(Error::Shape {
            op: "matmul",
            expected: format!("inner dimensions to agree for {layout:?}"),
            got: format!("A {a:?}, B {b:?}"),
        });
    }
    Ok((m, n, ka))
}

/// Plans `c = op(a)·op(b)` (or `c += ...` when `accumulate`); c must be `[m, n]`.
pub fn plan(
    engine: &Engine,
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    layout: Layout,
    accumulate: bool,
) -> Result<Dispatch> {
    matrix("matmul", c)?;
    let (m, n, k) = dims(a.shape(), b.shape(), layout)?;
    expect_shape("matmul output", c, &[m, n])?;
    let (mu, nu, ku) = (
        as_u32("matmul", m)?,
        as_u32("matmul", n)?,
        as_u32("matmul", k)?,
    );
    let (a_row, a_col) = match layout {
        Layout::TN => (1, mu),
        _ => (ku, 1),
    };
    let (b_row, b_col) = match layout {
        Layout::NT => (1, ku),
        _ => (nu, 1),
    };
    let params = Params {
        m: mu,
        n: nu,
        k: ku,
        accumulate: accumulate as u32,
        a_row,
        a_col,
        b_row,
        b_col,
    };
    let pipeline = engine.pipeline(FILE, SOURCE, "main")?;
    let uniform = engine.uniform("matmul params", &params);
    Ok(Dispatch::new(
        engine,
        "matmul",
        pipeline,
        &uniform,
        &[a, b, c],
        [groups_for(n, TILE), groups_for(m, TILE), 1],
    ))
}

/// CPU twin: `op(a)·op(b)` for row-major `a`, `b` of the given shapes.
pub fn cpu(
    a: &[f64],
    a_shape: [usize; 2],
    b: &[f64],
    b_shape: [usize; 2],
    layout: Layout,
) -> Vec<f64> {
    let (m, n, k) = dims(&a_shape, &b_shape, layout).expect("cpu matmul shapes");
    let at = |i: usize, l: usize| match layout {
        Layout::TN => a[l * m + i],
        _ => a[i * k + l],
    };
    let bt = |l: usize, j: usize| match layout {
        Layout::NT => b[j * k + l],
        _ => b[l * n + j],
    };
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|l| at(i, l) * bt(l, j)).sum();
        }
    }
    c
}
