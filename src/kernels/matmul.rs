//! Wrapper for `shaders/matmul.wgsl`: `C = op(A)·op(B)` in the layouts training needs.

use bytemuck::{Pod, Zeroable};

use super::{as_u32, expect_shape, matrix};
use crate::gpu::{groups_for, Dispatch, Engine};
use crate::{Error, Result, Tensor};

/// Shader file name.
pub const FILE: &str = "matmul.wgsl";
/// Shader source.
pub const SOURCE: &str = include_str!("../../shaders/matmul.wgsl");

/// A tile shape of the kernel: `wg_x * wg_y` invocations a workgroup, each computing `rows`
/// rows by 4 columns of C.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// Invocations along the columns of C.
    pub wg_x: u32,
    /// Invocations along the rows of C.
    pub wg_y: u32,
    /// Rows of C per invocation (register blocking; 4 columns each).
    pub rows: u32,
}

impl Variant {
    /// Rows and columns of C one workgroup covers.
    pub fn tile(self) -> (usize, usize) {
        ((self.wg_y * self.rows) as usize, (self.wg_x * 4) as usize)
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (r, c) = self.tile();
        write!(
            f,
            "{}x{} invocations, {}x4 each ({r}x{c} tile)",
            self.wg_x, self.wg_y, self.rows
        )
    }
}

/// The tile shapes the autotuner tries; the first is the default. All stay inside WebGPU's
/// 256 invocations a workgroup.
pub const VARIANTS: [Variant; 4] = [
    Variant {
        wg_x: 16,
        wg_y: 16,
        rows: 4,
    },
    Variant {
        wg_x: 8,
        wg_y: 8,
        rows: 4,
    },
    Variant {
        wg_x: 16,
        wg_y: 8,
        rows: 8,
    },
    Variant {
        wg_x: 16,
        wg_y: 16,
        rows: 2,
    },
];

/// Pipeline-cache names of the variants (the engine keys pipelines by file name).
const VARIANT_FILES: [&str; 4] = [
    "matmul.wgsl",
    "matmul.wgsl [8x8, 4 rows]",
    "matmul.wgsl [16x8, 8 rows]",
    "matmul.wgsl [16x16, 2 rows]",
];

/// The shader source of variant `i`: SOURCE with its three tile constants rewritten. Built
/// once per variant and kept for the process (four short strings).
fn variant_source(i: usize) -> &'static str {
    static SOURCES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    SOURCES.get_or_init(|| {
        VARIANTS
            .iter()
            .map(|v| {
                let text = SOURCE
                    .replace(
                        "const WG_X: u32 = 16u;",
                        &format!("const WG_X: u32 = {}u;", v.wg_x),
                    )
                    .replace(
                        "const WG_Y: u32 = 16u;",
                        &format!("const WG_Y: u32 = {}u;", v.wg_y),
                    )
                    .replace(
                        "const RM: u32 = 4u;",
                        &format!("const RM: u32 = {}u;", v.rows),
                    );
                &*Box::leak(text.into_boxed_str())
            })
            .collect()
    })[i]
}

/// The key under which the engine keeps the tuned variant.
const TUNED: &str = "matmul variant";

/// The variant `plan` uses on `engine`: the tuned one, else the default.
pub fn variant(engine: &Engine) -> Variant {
    VARIANTS[engine.tuned(TUNED).unwrap_or(0)]
}

/// Times every variant on two shapes the models use (a square 256³ product and an edge-MLP
/// layer, 2000 x 129 by 129 x 64) and records the fastest in `engine`; returns each
/// variant's time in seconds (the median of 3 runs, summed over the shapes).
pub fn autotune(engine: &Engine) -> Result<Vec<(Variant, f64)>> {
    let shapes = [(256usize, 256usize, 256usize), (2000, 64, 129)];
    let mut times = vec![0.0; VARIANTS.len()];
    for (m, n, k) in shapes {
        let a = engine.zeros(&[m, k]);
        let b = engine.zeros(&[k, n]);
        let c = engine.empty(&[m, n]);
        for (i, t) in times.iter_mut().enumerate() {
            let d = plan_variant(engine, &a, &b, &c, Layout::NN, false, i)?;
            engine.run(&[&d])?;
            engine.wait()?;
            let mut runs: Vec<f64> = (0..3)
                .map(|_| {
                    let start = std::time::Instant::now();
                    engine.run(&[&d])?;
                    engine.wait()?;
                    Ok(start.elapsed().as_secs_f64())
                })
                .collect::<Result<_>>()?;
            runs.sort_by(f64::total_cmp);
            *t += runs[1];
        }
    }
    let best = (0..times.len())
        .min_by(|&i, &j| times[i].total_cmp(&times[j]))
        .unwrap_or(0);
    engine.set_tuned(TUNED, best);
    log::info!("matmul tile shape for this adapter: {}", VARIANTS[best]);
    Ok(VARIANTS.iter().copied().zip(times).collect())
}

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
///
/// Uses the engine's tuned tile shape, tuning it first when the engine autotunes.
pub fn plan(
    engine: &Engine,
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    layout: Layout,
    accumulate: bool,
) -> Result<Dispatch> {
    if engine.autotune() && engine.tuned(TUNED).is_none() {
        autotune(engine)?;
    }
    let i = engine.tuned(TUNED).unwrap_or(0);
    plan_variant(engine, a, b, c, layout, accumulate, i)
}

/// [`plan`] with tile shape `VARIANTS[variant]`.
pub fn plan_variant(
    engine: &Engine,
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    layout: Layout,
    accumulate: bool,
    variant: usize,
) -> Result<Dispatch> {
    let v = *VARIANTS.get(variant).ok_or_else(|| Error::InvalidValue {
        what: "matmul variant".into(),
        detail: format!("{variant} (there are {})", VARIANTS.len()),
    })?;
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
    let pipeline = engine.pipeline(VARIANT_FILES[variant], variant_source(variant), "main")?;
    let uniform = engine.uniform("matmul params", &params);
    let (tile_rows, tile_cols) = v.tile();
    Ok(Dispatch::new(
        engine,
        "matmul",
        pipeline,
        &uniform,
        &[a, b, c],
        [groups_for(n, tile_cols), groups_for(m, tile_rows), 1],
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
