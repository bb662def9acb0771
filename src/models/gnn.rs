//! [`Gnn`]: the plain message-passing network, the non-equivariant baseline of the EGNN paper.
//!
//! Node input `[x, v]` (6 numbers) embedded to the hidden size; each layer computes messages
//! `m_ij = phi_e([h_i, h_j, a_ij])` on every edge j -> i and updates
//! `h_i <- h_i + phi_h([h_i, sum_j m_ij])`; a decoder MLP maps `h` to the predicted position.
//! `phi_e` and `phi_h` are two-layer MLPs (`phi_e` ends with the activation, as in the
//! authors' code).

use super::steps;
use super::{cpu_concat, cpu_rows, cpu_segment_sum, f64s};
use super::{GraphInputs, Model, ModelConfig, ModelPlan, OutputLayer};
use crate::data::GraphBatch;
use crate::gpu::Dispatch;
use crate::kernels::bias_act::Activation;
use crate::kernels::{gather, Cols};
use crate::nn::{Linear, Mlp, MlpPlan, ParamBuilder, ParamId, ParamStore};
use crate::rng::Rng;
use crate::{Engine, Result};

/// The message-passing GNN.
#[derive(Debug)]
pub struct Gnn {
    config: ModelConfig,
    edge_scalar_dim: usize,
    embed: Linear,
    layers: Vec<GnnLayer>,
    decoder: Mlp,
    params: ParamStore,
}

#[derive(Debug)]
struct GnnLayer {
    phi_e: Mlp,
    phi_h: Mlp,
}

impl Gnn {
    /// Declares the parameters for edges with `edge_scalar_dim` scalars, drawn from `seed`.
    pub fn new(
        engine: &Engine,
        config: &ModelConfig,
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
            (6, h),
            Activation::Identity,
            true,
            crate::nn::Init::Default,
            &mut rng,
        );
        let layers = (0..config.layers)
            .map(|l| GnnLayer {
                phi_e: Mlp::new(
                    &mut b,
                    &format!("layer{l}.phi_e"),
                    &[2 * h + edge_scalar_dim, h, h],
                    act,
                    act,
                    &mut rng,
                ),
                phi_h: Mlp::new(
                    &mut b,
                    &format!("layer{l}.phi_h"),
                    &[2 * h, h, h],
                    act,
                    Activation::Identity,
                    &mut rng,
                ),
            })
            .collect();
        let decoder = Mlp::new(
            &mut b,
            "decoder",
            &[h, h, 3],
            act,
            Activation::Identity,
            &mut rng,
        );
        Ok(Self {
            config: config.clone(),
            edge_scalar_dim,
            embed,
            layers,
            decoder,
            params: b.build(engine)?,
        })
    }
}

impl Model for Gnn {
    fn name(&self) -> &'static str {
        "gnn"
    }

    fn params(&self) -> &ParamStore {
        &self.params
    }

    fn plan(&self, engine: &Engine, inputs: &GraphInputs) -> Result<ModelPlan> {
        let (n, e, h) = (inputs.nodes, inputs.edges, self.config.hidden);
        let m = self.edge_scalar_dim;
        inputs.expect_edge_scalars(m)?;
        let mut forward: Vec<Dispatch> = Vec::new();
        let mut backward: Vec<Vec<Dispatch>> = Vec::new();
        let take = |v: Vec<&Dispatch>| v.into_iter().cloned().collect::<Vec<_>>();

        // [x, v] per node, then the embedding.
        let input = engine.empty(&[n, 6]);
        forward.push(gather::plan(
            engine,
            Cols::all(&inputs.positions),
            None,
            Cols::new(&input, 0, 3),
            false,
        )?);
        forward.push(gather::plan(
            engine,
            Cols::all(&inputs.velocities),
            None,
            Cols::new(&input, 3, 3),
            false,
        )?);
        let embed = self.embed.plan(engine, &self.params, &input, None)?;
        forward.extend(embed.forward().cloned());
        backward.push(embed.backward().cloned().collect());

        let mut h_in = embed.y.clone();
        let mut dh_in = embed.dy.clone();
        for layer in &self.layers {
            let edge_in = engine.empty(&[e, 2 * h + m]);
            let d_edge_in = engine.empty(&[e, 2 * h + m]);
            let node_in = engine.empty(&[n, 2 * h]);
            let d_node_in = engine.empty(&[n, 2 * h]);
            let phi_e: MlpPlan =
                layer
                    .phi_e
                    .plan(engine, &self.params, &edge_in, Some((&d_edge_in, false)))?;
            let phi_h =
                layer
                    .phi_h
                    .plan(engine, &self.params, &node_in, Some((&d_node_in, false)))?;

            // Messages: [h_i, h_j, a_ij] -> phi_e, summed at the receiver with h_i beside them.
            forward.extend(steps::gather_endpoints(engine, inputs, &h_in, &edge_in, h)?);
            if m > 0 {
                forward.push(gather::plan(
                    engine,
                    Cols::all(&inputs.edge_scalars),
                    None,
                    Cols::new(&edge_in, 2 * h, m),
                    false,
                )?);
            }
            forward.extend(take(phi_e.forward()));
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

            // Backward, in reverse: phi_h, the messages' sum, phi_e, then the gathers of h_in.
            let d_out = phi_h.dy().clone();
            let mut back = take(phi_h.backward());
            back.push(steps::aggregate_backward(
                engine,
                inputs,
                &d_node_in,
                phi_e.dy(),
                h,
            )?);
            back.extend(take(phi_e.backward()));
            back.extend(steps::residual_backward(
                engine, &d_out, &d_node_in, &dh_in, h,
            )?);
            back.extend(steps::scatter_endpoints(
                engine, inputs, &d_edge_in, &dh_in, h,
            )?);
            backward.push(back);

            h_in = phi_h.y().clone();
            dh_in = d_out;
        }

        let decoder = self
            .decoder
            .plan(engine, &self.params, &h_in, Some((&dh_in, false)))?;
        forward.extend(take(decoder.forward()));
        backward.push(take(decoder.backward()));
        let last = self.decoder.layers.last().expect("decoder has layers");
        let last_input = match self.decoder.layers.len() {
            1 => h_in.clone(),
            k => decoder.layer_output(k - 2).clone(),
        };
        Ok(ModelPlan {
            output: decoder.y().clone(),
            d_output: decoder.dy().clone(),
            forward,
            backward: backward.into_iter().rev().flatten().collect(),
            output_layer: Some(OutputLayer {
                input: last_input,
                weight: last.weight,
            }),
        })
    }

    fn cpu_forward(&self, params: &[Vec<f64>], batch: &GraphBatch) -> Vec<f64> {
        let host = |id: ParamId| params[id.index()].clone();
        let (n, h, m) = (batch.num_nodes(), self.config.hidden, self.edge_scalar_dim);
        let (x, v) = (f64s(&batch.positions), f64s(&batch.velocities));
        let input = cpu_concat(n, &[(&x, 3), (&v, 3)]);
        let embed_b = self.embed.bias.map(host);
        let mut hid = self
            .embed
            .cpu_forward(&host(self.embed.weight), embed_b.as_deref(), &input);
        let a = f64s(&batch.edge_scalars);
        let e = batch.num_edges();
        for layer in &self.layers {
            let (hi, hj) = (cpu_rows(&hid, h, &batch.dst), cpu_rows(&hid, h, &batch.src));
            let msg = layer
                .phi_e
                .cpu_forward(&host, &cpu_concat(e, &[(&hi, h), (&hj, h), (&a, m)]));
            let agg = cpu_segment_sum(&msg, h, &batch.dst_offsets);
            let upd = layer
                .phi_h
                .cpu_forward(&host, &cpu_concat(n, &[(&hid, h), (&agg, h)]));
            hid = hid.iter().zip(&upd).map(|(a, b)| a + b).collect();
        }
        self.decoder.cpu_forward(&host, &hid)
    }
}
