//! [`Egnn`]: the E(n)-equivariant graph network of Satorras et al. (2021), N-body variant with
//! velocities.
//!
//! `h0 = embed(node scalars)` (`|v|` for the charged data). Each layer, with `x` the layer's
//! current positions and edge attributes `a_ij = [edge scalars, |x0_i - x0_j|^2]` (the second
//! is the squared distance at the input frame, as in the authors' code):
//!
//! ```text
//! m_ij = phi_e([h_i, h_j, |x_i - x_j|^2, a_ij])
//! x_i <- x_i + mean_j clamp((x_i - x_j) phi_x(m_ij), -100, 100) + phi_v(h_i) v_i
//! h_i <- h_i + phi_h([h_i, sum_j m_ij])
//! ```
//!
//! The output is the final `x`. The last layer of `phi_x` has no bias and starts near zero
//! (Xavier-uniform with gain 0.001). Every input that enters the network as a vector (`x`,
//! `v`) is only ever scaled by invariants, which makes the model equivariant.

use super::steps;
use super::{cpu_concat, cpu_rows, cpu_segment_sum, f64s};
use super::{GraphInputs, Model, ModelConfig, ModelPlan};
use crate::data::GraphBatch;
use crate::gpu::Dispatch;
use crate::kernels::bias_act::Activation;
use crate::kernels::coord_update;
use crate::kernels::edge_geometry::{self, Adjacency};
use crate::kernels::{gather, Cols};
use crate::nn::{Init, Linear, Mlp, ParamBuilder, ParamId, ParamStore};
use crate::rng::Rng;
use crate::{Engine, Result};

/// The equivariant graph network.
#[derive(Debug)]
pub struct Egnn {
    config: ModelConfig,
    node_scalar_dim: usize,
    edge_scalar_dim: usize,
    embed: Linear,
    layers: Vec<EgnnLayer>,
    params: ParamStore,
}

#[derive(Debug)]
struct EgnnLayer {
    phi_e: Mlp,
    phi_x: Mlp,
    phi_v: Mlp,
    phi_h: Mlp,
}

impl Egnn {
    /// Declares the parameters for the given node and edge scalar widths, drawn from `seed`.
    pub fn new(
        engine: &Engine,
        config: &ModelConfig,
        node_scalar_dim: usize,
        edge_scalar_dim: usize,
        seed: u64,
    ) -> Result<Self> {
        config.validate()?;
        let (h, act) = (config.hidden, config.activation);
        let mut rng = Rng::new(seed);
        let mut b = ParamBuilder::default();
        let embed = Linear::new(
            &mut b,
            "embed",
            (node_scalar_dim, h),
            Activation::Identity,
            true,
            Init::Default,
            &mut rng,
        );
        // Edge MLP input: h_i, h_j, the current squared distance, the edge scalars and the
        // squared distance at the input frame.
        let edge_in = 2 * h + 1 + edge_scalar_dim + 1;
        let layers = (0..config.layers)
            .map(|l| {
                let name = |part: &str| format!("layer{l}.{part}");
                let phi_e = Mlp::new(&mut b, &name("phi_e"), &[edge_in, h, h], act, act, &mut rng);
                let phi_x = Mlp::from_layers(vec![
                    Linear::new(
                        &mut b,
                        &name("phi_x.0"),
                        (h, h),
                        act,
                        true,
                        Init::Default,
                        &mut rng,
                    ),
                    Linear::new(
                        &mut b,
                        &name("phi_x.1"),
                        (h, 1),
                        Activation::Identity,
                        false,
                        Init::XavierUniform { gain: 0.001 },
                        &mut rng,
                    ),
                ]);
                let phi_v = Mlp::new(
                    &mut b,
                    &name("phi_v"),
                    &[h, h, 1],
                    act,
                    Activation::Identity,
                    &mut rng,
                );
                let phi_h = Mlp::new(
                    &mut b,
                    &name("phi_h"),
                    &[2 * h, h, h],
                    act,
                    Activation::Identity,
                    &mut rng,
                );
                EgnnLayer {
                    phi_e,
                    phi_x,
                    phi_v,
                    phi_h,
                }
            })
            .collect();
        Ok(Self {
            config: config.clone(),
            node_scalar_dim,
            edge_scalar_dim,
            embed,
            layers,
            params: b.build(engine)?,
        })
    }
}

impl Model for Egnn {
    fn name(&self) -> &'static str {
        "egnn"
    }

    fn params(&self) -> &ParamStore {
        &self.params
    }

    fn plan(&self, engine: &Engine, inputs: &GraphInputs) -> Result<ModelPlan> {
        let (n, e, h) = (inputs.nodes, inputs.edges, self.config.hidden);
        let m = self.edge_scalar_dim;
        inputs.expect_node_scalars(self.node_scalar_dim)?;
        inputs.expect_edge_scalars(m)?;
        let width = 2 * h + 1 + m + 1;
        let mut forward: Vec<Dispatch> = Vec::new();
        let mut backward: Vec<Vec<Dispatch>> = Vec::new();
        let take = |v: Vec<&Dispatch>| v.into_iter().cloned().collect::<Vec<_>>();

        // Invariant edge attributes, the same in every layer: [scalars, |x0_i - x0_j|^2].
        let attrs = engine.empty(&[e, m + 1]);
        let diff0 = engine.empty(&[e, 3]);
        if m > 0 {
            forward.push(gather::plan(
                engine,
                Cols::all(&inputs.edge_scalars),
                None,
                Cols::new(&attrs, 0, m),
                false,
            )?);
        }
        forward.push(edge_geometry::plan(
            engine,
            &inputs.positions,
            &inputs.src,
            &inputs.dst,
            &diff0,
            Cols::new(&attrs, m, 1),
        )?);

        let embed = self
            .embed
            .plan(engine, &self.params, &inputs.node_scalars, None)?;
        forward.extend(embed.forward().cloned());
        backward.push(embed.backward().cloned().collect());

        let (mut h_in, mut dh_in) = (embed.y.clone(), embed.dy.clone());
        let mut x_in = inputs.positions.clone();
        let mut dx_in: Option<crate::Tensor> = None;
        for layer in &self.layers {
            let edge_in = engine.empty(&[e, width]);
            let d_edge_in = engine.empty(&[e, width]);
            let node_in = engine.empty(&[n, 2 * h]);
            let d_node_in = engine.empty(&[n, 2 * h]);
            let diff = engine.empty(&[e, 3]);
            let d_diff = engine.empty(&[e, 3]);
            let x_out = engine.empty(&[n, 3]);
            let dx_out = engine.empty(&[n, 3]);

            let phi_e =
                layer
                    .phi_e
                    .plan(engine, &self.params, &edge_in, Some((&d_edge_in, false)))?;
            let phi_x =
                layer
                    .phi_x
                    .plan(engine, &self.params, phi_e.y(), Some((phi_e.dy(), true)))?;
            let phi_v = layer
                .phi_v
                .plan(engine, &self.params, &h_in, Some((&dh_in, true)))?;
            let phi_h =
                layer
                    .phi_h
                    .plan(engine, &self.params, &node_in, Some((&d_node_in, false)))?;

            // Edge inputs [h_i, h_j, |x_i - x_j|^2, a_ij], then the messages.
            forward.extend(steps::gather_endpoints(engine, inputs, &h_in, &edge_in, h)?);
            forward.push(edge_geometry::plan(
                engine,
                &x_in,
                &inputs.src,
                &inputs.dst,
                &diff,
                Cols::new(&edge_in, 2 * h, 1),
            )?);
            forward.push(gather::plan(
                engine,
                Cols::all(&attrs),
                None,
                Cols::new(&edge_in, 2 * h + 1, m + 1),
                false,
            )?);
            forward.extend(take(phi_e.forward()));

            // Positions: the mean of clamped (x_i - x_j) phi_x(m_ij), plus phi_v(h_i) v_i.
            forward.extend(take(phi_x.forward()));
            forward.extend(take(phi_v.forward()));
            forward.push(coord_update::plan(
                engine,
                &x_in,
                &diff,
                Cols::all(phi_x.y()),
                &inputs.dst_offsets,
                &inputs.velocities,
                Cols::all(phi_v.y()),
                &x_out,
            )?);

            // Features: h_i + phi_h([h_i, sum_j m_ij]).
            forward.extend(steps::aggregate(
                engine,
                inputs,
                &h_in,
                phi_e.y(),
                &node_in,
                h,
            )?);
            forward.extend(take(phi_h.forward()));
            forward.push(steps::residual(engine, &h_in, phi_h.y())?);

            // Backward. dh_out arrives in phi_h.dy, dx_out in dx_out.
            let dh_out = phi_h.dy().clone();
            let mut back = take(phi_h.backward());
            back.extend(steps::residual_backward(
                engine, &dh_out, &d_node_in, &dh_in, h,
            )?);
            back.push(coord_update::plan_backward(
                engine,
                &dx_out,
                &diff,
                Cols::all(phi_x.y()),
                &inputs.dst_offsets,
                &inputs.velocities,
                &d_diff,
                Cols::all(phi_x.dy()),
                Cols::all(phi_v.dy()),
            )?);
            back.extend(take(phi_v.backward()));
            back.push(steps::aggregate_backward(
                engine,
                inputs,
                &d_node_in,
                phi_e.dy(),
                h,
            )?);
            back.extend(take(phi_x.backward()));
            back.extend(take(phi_e.backward()));
            back.extend(steps::scatter_endpoints(
                engine, inputs, &d_edge_in, &dh_in, h,
            )?);
            // The input positions need no gradient; later layers' positions do.
            if let Some(dx_in) = &dx_in {
                back.push(gather::plan(
                    engine,
                    Cols::all(&dx_out),
                    None,
                    Cols::all(dx_in),
                    false,
                )?);
                back.push(edge_geometry::plan_backward(
                    engine,
                    &diff,
                    Some(&d_diff),
                    Cols::new(&d_edge_in, 2 * h, 1),
                    Adjacency {
                        dst_offsets: &inputs.dst_offsets,
                        src_offsets: &inputs.src_offsets,
                        src_perm: &inputs.src_perm,
                    },
                    dx_in,
                    true,
                )?);
            }
            backward.push(back);

            h_in = phi_h.y().clone();
            dh_in = dh_out;
            x_in = x_out;
            dx_in = Some(dx_out);
        }

        // The last layer's features feed nothing: their gradient stays zero.
        engine.write(&dh_in, &vec![0.0; n * h])?;
        let (output, d_output) = match dx_in {
            Some(dx) => (x_in, dx),
            None => (x_in, engine.empty(&[n, 3])),
        };
        Ok(ModelPlan {
            output,
            d_output,
            forward,
            backward: backward.into_iter().rev().flatten().collect(),
            output_layer: None,
        })
    }

    fn cpu_forward(&self, params: &[Vec<f64>], batch: &GraphBatch) -> Vec<f64> {
        let host = |id: ParamId| params[id.index()].clone();
        let (n, e, h) = (batch.num_nodes(), batch.num_edges(), self.config.hidden);
        let m = self.edge_scalar_dim;
        let (mut x, v) = (f64s(&batch.positions), f64s(&batch.velocities));
        let (_, sq0) = edge_geometry::cpu(&x, &batch.src, &batch.dst);
        let attrs = cpu_concat(e, &[(&f64s(&batch.edge_scalars), m), (&sq0, 1)]);
        let embed_b = self.embed.bias.map(host);
        let mut hid = self.embed.cpu_forward(
            &host(self.embed.weight),
            embed_b.as_deref(),
            &f64s(&batch.node_scalars),
        );
        for layer in &self.layers {
            let (diff, sq) = edge_geometry::cpu(&x, &batch.src, &batch.dst);
            let (hi, hj) = (cpu_rows(&hid, h, &batch.dst), cpu_rows(&hid, h, &batch.src));
            let edge_in = cpu_concat(e, &[(&hi, h), (&hj, h), (&sq, 1), (&attrs, m + 1)]);
            let msg = layer.phi_e.cpu_forward(&host, &edge_in);
            let phi_x = layer.phi_x.cpu_forward(&host, &msg);
            let phi_v = layer.phi_v.cpu_forward(&host, &hid);
            x = coord_update::cpu(&x, &diff, &phi_x, &batch.dst_offsets, &v, &phi_v);
            let agg = cpu_segment_sum(&msg, h, &batch.dst_offsets);
            let upd = layer
                .phi_h
                .cpu_forward(&host, &cpu_concat(n, &[(&hid, h), (&agg, h)]));
            hid = hid.iter().zip(&upd).map(|(a, b)| a + b).collect();
        }
        x
    }
}
