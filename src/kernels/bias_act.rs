//! Wrapper for `shaders/bias_act.wgsl` and `shaders/bias_act_backward.wgsl`: a linear layer's
//! bias and activation, fused, and their backward.

use bytemuck::{Pod, Zeroable};

use super::{as_u32, expect_shape, matrix};
use crate::gpu::{grid_1d, groups_for, Dispatch, Engine};
use crate::{Result, Tensor};

/// Forward shader file name.
pub const FILE: &str = "bias_act.wgsl";
/// Forward shader source.
pub const SOURCE: &str = include_str!("../../shaders/bias_act.wgsl");
/// Backward shader file name.
pub const BACKWARD_FILE: &str = "bias_act_backward.wgsl";
/// Backward shader source.
pub const BACKWARD_SOURCE: &str = include_str!("../../shaders/bias_act_backward.wgsl");

/// Elementwise nonlinearity after a linear map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `y = z`.
    Identity,
    /// `y = max(z, 0)`.
    Relu,
    /// `y = z * sigmoid(z)`, also called swish.
    #[default]
    Silu,
}

impl Activation {
    fn code(self) -> u32 {
        match self {
            Activation::Identity => 0,
            Activation::Relu => 1,
            Activation::Silu => 2,
        }
    }

    /// CPU twin of the activation.
    pub fn cpu(self, z: f64) -> f64 {
        match self {
            Activation::Identity => z,
            Activation::Relu => z.max(0.0),
            Activation::Silu => z / (1.0 + (-z).exp()),
        }
    }

    /// CPU twin of its derivative.
    pub fn cpu_grad(self, z: f64) -> f64 {
        match self {
            Activation::Identity => 1.0,
            Activation::Relu => f64::from(u8::from(z > 0.0)),
            Activation::Silu => {
                let s = 1.0 / (1.0 + (-z).exp());
                s * (1.0 + z * (1.0 - s))
            }
        }
    }
}

impl std::str::FromStr for Activation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "identity" | "none" | "linear" => Ok(Activation::Identity),
            "relu" => Ok(Activation::Relu),
            "silu" | "swish" => Ok(Activation::Silu),
            other => Err(format!(
                "unknown activation '{other}' (expected identity, relu or silu)"
            )),
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    act: u32,
    accumulate_bias: u32,
}

fn params(op: &'static str, x: &Tensor, act: Activation, accumulate: bool) -> Result<Params> {
    let (rows, cols) = matrix(op, x)?;
    Ok(Params {
        rows: as_u32(op, rows)?,
        cols: as_u32(op, cols)?,
        act: act.code(),
        accumulate_bias: accumulate as u32,
    })
}

/// Plans `x <- x + bias` (x becomes the pre-activation z) and `y = act(z)`.
///
/// With [`Activation::Identity`] pass `y = None`: the bias is added in place and x is the output.
pub fn plan_forward(
    engine: &Engine,
    x: &Tensor,
    bias: &Tensor,
    y: Option<&Tensor>,
    act: Activation,
) -> Result<Dispatch> {
    let p = params("bias_act", x, act, false)?;
    expect_shape("bias_act bias", bias, &[p.cols as usize])?;
    let grid = grid_1d(groups_for(x.len(), 256));
    let uniform = engine.uniform("bias_act params", &p);
    match y {
        Some(y) => {
            expect_shape("bias_act output", y, x.shape())?;
            let pipeline = engine.pipeline(FILE, SOURCE, "forward")?;
            Ok(Dispatch::new(
                engine,
                "bias_act",
                pipeline,
                &uniform,
                &[x, bias, y],
                grid,
            ))
        }
        None => {
            assert_eq!(
                act,
                Activation::Identity,
                "an activation needs an output tensor"
            );
            let pipeline = engine.pipeline(FILE, SOURCE, "add_bias")?;
            Ok(Dispatch::new(
                engine,
                "add_bias",
                pipeline,
                &uniform,
                &[x, bias],
                grid,
            ))
        }
    }
}

/// Plans `dz = dy * act'(z)` and `dbias = sum over rows of dz` (added to dbias when
/// `accumulate_bias`).
pub fn plan_backward(
    engine: &Engine,
    z: &Tensor,
    dy: &Tensor,
    dz: &Tensor,
    dbias: &Tensor,
    act: Activation,
    accumulate_bias: bool,
) -> Result<Dispatch> {
    let p = params("bias_act_backward", z, act, accumulate_bias)?;
    expect_shape("bias_act_backward dy", dy, z.shape())?;
    expect_shape("bias_act_backward dz", dz, z.shape())?;
    expect_shape("bias_act_backward dbias", dbias, &[p.cols as usize])?;
    let pipeline = engine.pipeline(BACKWARD_FILE, BACKWARD_SOURCE, "main")?;
    let uniform = engine.uniform("bias_act_backward params", &p);
    Ok(Dispatch::new(
        engine,
        "bias_act_backward",
        pipeline,
        &uniform,
        &[z, dy, dz, dbias],
        [groups_for(p.cols as usize, 16), 1, 1],
    ))
}

/// CPU twin of the forward: returns `(z, y)` for `x [rows, cols]`.
pub fn cpu_forward(x: &[f64], bias: &[f64], act: Activation) -> (Vec<f64>, Vec<f64>) {
    let cols = bias.len();
    let z: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| v + bias[i % cols])
        .collect();
    let y = z.iter().map(|&v| act.cpu(v)).collect();
    (z, y)
}

/// CPU twin of the backward: returns `(dz, dbias)`.
pub fn cpu_backward(z: &[f64], dy: &[f64], cols: usize, act: Activation) -> (Vec<f64>, Vec<f64>) {
    let dz: Vec<f64> = z
        .iter()
        .zip(dy)
        .map(|(&z, &g)| g * act.cpu_grad(z))
        .collect();
    let mut db = vec![0.0; cols];
    for (i, g) in dz.iter().enumerate() {
        db[i % cols] += g;
    }
    (dz, db)
}
