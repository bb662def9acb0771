//! [`GraphMlp`]: the unconstrained baseline with no graph structure at all: one multilayer
//! perceptron per graph from every node's and edge's features, flattened, to every node's
//! predicted position. Graphs must all have the same node and edge counts (N-body systems do).
//!
//! Input per graph: `[x (3N), v (3N), node scalars (kN), edge scalars (mE)]`; output `3N`.
//! Node rows of a graph are contiguous in a batch, so `[nodes, 3]` read as `[graphs, 3N]` is
//! the same memory, and the input is assembled by column-block copies without any reshuffle.

use super::{f64s, GraphInputs, Model, ModelConfig, ModelPlan, OutputLayer};
use crate::data::GraphBatch;
use crate::gpu::Dispatch;
use crate::kernels::bias_act::Activation;
use crate::kernels::{gather, Cols};
use crate::nn::{Mlp, ParamBuilder, ParamId, ParamStore};
use crate::rng::Rng;
use crate::{Engine, Error, Result};

/// A multilayer perceptron over whole graphs of a fixed size.
#[derive(Debug)]
pub struct GraphMlp {
    nodes: usize,
    edges: usize,
    node_scalar_dim: usize,
    edge_scalar_dim: usize,
    mlp: Mlp,
    params: ParamStore,
}

impl GraphMlp {
    /// Declares `config.layers` hidden layers of `config.hidden` for graphs of `nodes` nodes
    /// and `edges` edges with the given scalar widths, weights drawn from `seed`.
    pub fn new(
        engine: &Engine,
        config: &ModelConfig,
        (nodes, edges): (usize, usize),
        (node_scalar_dim, edge_scalar_dim): (usize, usize),
        seed: u64,
    ) -> Result<Self> {
        config.validate()?;
        let input = nodes * (6 + node_scalar_dim) + edges * edge_scalar_dim;
        let mut dims = vec![input];
        dims.extend(std::iter::repeat_n(config.hidden, config.layers));
        dims.push(3 * nodes);
        let mut rng = Rng::new(seed);
        let mut b = ParamBuilder::default();
        let mlp = Mlp::new(
            &mut b,
            "mlp",
            &dims,
            config.activation,
            Activation::Identity,
            &mut rng,
        );
        Ok(Self {
            nodes,
            edges,
            node_scalar_dim,
            edge_scalar_dim,
            mlp,
            params: b.build(engine)?,
        })
    }

    fn input_width(&self) -> usize {
        self.nodes * (6 + self.node_scalar_dim) + self.edges * self.edge_scalar_dim
    }
}

impl Model for GraphMlp {
    fn name(&self) -> &'static str {
        "mlp"
    }

    fn params(&self) -> &ParamStore {
        &self.params
    }

    fn plan(&self, engine: &Engine, inputs: &GraphInputs) -> Result<ModelPlan> {
        let (g, n, e) = (inputs.graphs, self.nodes, self.edges);
        if inputs.nodes != g * n || inputs.edges != g * e {
            return Err(Error::Shape {
                op: "graph MLP",
                expected: format!("graphs of {n} nodes and {e} edges each"),
                got: format!(
                    "{g} graphs with {} nodes and {} edges",
                    inputs.nodes, inputs.edges
                ),
            });
        }
        let (k, m) = (self.node_scalar_dim, self.edge_scalar_dim);
        inputs.expect_node_scalars(k)?;
        inputs.expect_edge_scalars(m)?;
        let input = engine.empty(&[g, self.input_width()]);
        let blocks = [
            (inputs.positions.reshape(&[g, 3 * n]), 0),
            (inputs.velocities.reshape(&[g, 3 * n]), 3 * n),
            (inputs.node_scalars.reshape(&[g, k * n]), 6 * n),
            (inputs.edge_scalars.reshape(&[g, m * e]), (6 + k) * n),
        ];
        let mut forward: Vec<Dispatch> = Vec::new();
        for (block, first) in &blocks {
            let width = block.shape()[1];
            if width > 0 {
                forward.push(gather::plan(
                    engine,
                    Cols::all(block),
                    None,
                    Cols::new(&input, *first, width),
                    false,
                )?);
            }
        }
        let plan = self.mlp.plan(engine, &self.params, &input, None)?;
        forward.extend(plan.forward().into_iter().cloned());
        let last = self.mlp.layers.last().expect("an MLP has layers");
        let last_input = match self.mlp.layers.len() {
            1 => input.clone(),
            l => plan.layer_output(l - 2).clone(),
        };
        Ok(ModelPlan {
            output: plan.y().reshape(&[g * n, 3]),
            d_output: plan.dy().reshape(&[g * n, 3]),
            backward: plan.backward().into_iter().cloned().collect(),
            forward,
            output_layer: Some(OutputLayer {
                input: last_input,
                weight: last.weight,
            }),
        })
    }

    fn cpu_forward(&self, params: &[Vec<f64>], batch: &GraphBatch) -> Vec<f64> {
        let host = |id: ParamId| params[id.index()].clone();
        let (n, e) = (self.nodes, self.edges);
        let (k, m) = (self.node_scalar_dim, self.edge_scalar_dim);
        let (x, v) = (f64s(&batch.positions), f64s(&batch.velocities));
        let (s, a) = (f64s(&batch.node_scalars), f64s(&batch.edge_scalars));
        let mut input = Vec::with_capacity(batch.num_graphs() * self.input_width());
        for g in 0..batch.num_graphs() {
            input.extend_from_slice(&x[g * 3 * n..(g + 1) * 3 * n]);
            input.extend_from_slice(&v[g * 3 * n..(g + 1) * 3 * n]);
            input.extend_from_slice(&s[g * k * n..(g + 1) * k * n]);
            input.extend_from_slice(&a[g * m * e..(g + 1) * m * e]);
        }
        self.mlp.cpu_forward(&host, &input)
    }
}
