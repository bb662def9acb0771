//! Models: layers wired together into networks that map a graph batch to node outputs.
//!
//! Every model predicts one 3-vector per node (e.g. the positions at a later frame) from
//! [`GraphInputs`], and plans its forward and backward once per batch layout.

pub mod egnn;
pub mod gnn;
pub mod mlp;

pub use egnn::Egnn;
pub use gnn::Gnn;
pub use mlp::GraphMlp;

use serde::{Deserialize, Serialize};

use crate::data::GraphBatch;
use crate::gpu::Dispatch;
use crate::kernels::bias_act::Activation;
use crate::kernels::segment_sum::source_csr;
use crate::nn::{ParamId, ParamStore};
use crate::{Engine, Error, Result, Tensor};

/// The networks remul can train on graph batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// The plain message-passing network (not equivariant).
    Gnn,
    /// The E(n)-equivariant graph network.
    Egnn,
    /// One MLP over each whole graph, flattened (no graph structure; fixed-size graphs).
    Mlp,
}

impl std::str::FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "gnn" => Ok(Self::Gnn),
            "egnn" => Ok(Self::Egnn),
            "mlp" => Ok(Self::Mlp),
            _ => Err(format!("unknown model {s:?} (expected gnn, egnn or mlp)")),
        }
    }
}

/// The sizes a model is built for: scalar widths, and the node and edge count of every graph
/// when all graphs share them (the MLP needs them; the graph networks take any graph).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphDims {
    /// Scalars per node.
    pub node_scalars: usize,
    /// Scalars per edge.
    pub edge_scalars: usize,
    /// `(nodes, edges)` of every graph, if they are all the same.
    pub fixed_size: Option<(usize, usize)>,
}

impl GraphDims {
    /// The dimensions of `data`'s graphs (its fixed size only if every graph shares it).
    pub fn of(data: &dyn crate::data::Dataset) -> Self {
        let size = |i| data.graph(i).map(|g| (g.num_nodes(), g.num_edges()));
        let first = size(0);
        let fixed = (1..data.len()).all(|i| size(i) == first);
        Self {
            node_scalars: data.node_scalar_dim(),
            edge_scalars: data.edge_scalar_dim(),
            fixed_size: if fixed { first } else { None },
        }
    }
}

/// Builds the network `config` names for graphs of `dims`, weights drawn from `seed`.
pub fn build(
    engine: &Engine,
    config: &ModelConfig,
    dims: GraphDims,
    seed: u64,
) -> Result<Box<dyn Model>> {
    let (k, m) = (dims.node_scalars, dims.edge_scalars);
    Ok(match config.kind {
        ModelKind::Gnn => Box::new(Gnn::new(engine, config, m, seed)?),
        ModelKind::Egnn => Box::new(Egnn::new(engine, config, k, m, seed)?),
        ModelKind::Mlp => {
            let size = dims.fixed_size.ok_or_else(|| Error::InvalidValue {
                what: "model.kind".into(),
                detail: "the MLP needs graphs that all have the same node and edge counts".into(),
            })?;
            Box::new(GraphMlp::new(engine, config, size, (k, m), seed)?)
        }
    })
}

/// The size of a message-passing model; the N-body defaults of the EGNN paper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Which network.
    pub kind: ModelKind,
    /// Width of node features and of every hidden layer.
    pub hidden: usize,
    /// Message-passing layers.
    pub layers: usize,
    /// Activation inside every MLP.
    pub activation: Activation,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            kind: ModelKind::Gnn,
            hidden: 64,
            layers: 4,
            activation: Activation::Silu,
        }
    }
}

impl ModelConfig {
    /// Errors naming the field when a value is unusable.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, detail: String| {
            Err(Error::InvalidValue {
                what: what.into(),
                detail,
            })
        };
        if self.hidden == 0 || self.hidden > 4096 {
            return bad(
                "model.hidden",
                format!("{} is not in 1..=4096", self.hidden),
            );
        }
        if self.layers == 0 || self.layers > 64 {
            return bad("model.layers", format!("{} is not in 1..=64", self.layers));
        }
        Ok(())
    }
}

/// A graph batch on the GPU, allocated once for one layout (graphs, nodes, edges).
///
/// Sized for the *doubled* batch when REMUL training needs it: [`GraphInputs::upload`] fills
/// the first `batch.num_graphs()` graphs and leaves the rest for the rotation kernel.
#[derive(Debug, Clone)]
pub struct GraphInputs {
    /// Graphs in the batch.
    pub graphs: usize,
    /// Nodes over all graphs.
    pub nodes: usize,
    /// Edges over all graphs.
    pub edges: usize,
    /// Node positions `[nodes, 3]`.
    pub positions: Tensor,
    /// Node velocities `[nodes, 3]`.
    pub velocities: Tensor,
    /// Node scalars `[nodes, node_scalar_dim]` (e.g. `|v|`).
    pub node_scalars: Tensor,
    /// Edge scalars `[edges, edge_scalar_dim]` (e.g. `q_i q_j`).
    pub edge_scalars: Tensor,
    /// Targets `[nodes, 3]`.
    pub targets: Tensor,
    /// Source node of each edge, u32 `[edges]`.
    pub src: Tensor,
    /// Destination node of each edge, non-decreasing, u32 `[edges]`.
    pub dst: Tensor,
    /// First incoming edge of each node plus the total, u32 `[nodes + 1]`.
    pub dst_offsets: Tensor,
    /// First outgoing edge of each node in `src_perm` order plus the total, u32 `[nodes + 1]`.
    pub src_offsets: Tensor,
    /// Edge ids ordered by source node, u32 `[edges]`.
    pub src_perm: Tensor,
    /// Graph of each node, u32 `[nodes]`.
    pub node_graph: Tensor,
    /// First node of each graph plus the total, u32 `[graphs + 1]`.
    pub graph_offsets: Tensor,
}

impl GraphInputs {
    /// Allocates a batch of `copies` stacked copies of `batch`'s layout, and writes the indices
    /// and every copy's features (copies of the same values; REMUL rotates them on the GPU).
    pub fn new(engine: &Engine, batch: &GraphBatch, copies: usize) -> Result<Self> {
        let (g, n, e) = (batch.num_graphs(), batch.num_nodes(), batch.num_edges());
        let (k, m) = (batch.node_scalar_dim, batch.edge_scalar_dim);
        let inputs = Self {
            graphs: g * copies,
            nodes: n * copies,
            edges: e * copies,
            positions: engine.empty(&[n * copies, 3]),
            velocities: engine.empty(&[n * copies, 3]),
            node_scalars: engine.empty(&[n * copies, k]),
            edge_scalars: engine.empty(&[e * copies, m]),
            targets: engine.empty(&[n * copies, 3]),
            src: engine.empty_u32(&[e * copies]),
            dst: engine.empty_u32(&[e * copies]),
            dst_offsets: engine.empty_u32(&[n * copies + 1]),
            src_offsets: engine.empty_u32(&[n * copies + 1]),
            src_perm: engine.empty_u32(&[e * copies]),
            node_graph: engine.empty_u32(&[n * copies]),
            graph_offsets: engine.empty_u32(&[g * copies + 1]),
        };
        // Copy c of an index array: every index shifted by c times the per-copy count `by`.
        let stack = |v: &[u32], by: usize, last: bool| -> Vec<u32> {
            let body = if last { &v[..v.len() - 1] } else { v };
            let mut out = Vec::with_capacity(v.len() * copies);
            for c in 0..copies {
                out.extend(body.iter().map(|&i| i + (by * c) as u32));
            }
            if last {
                out.push(v[v.len() - 1] + (by * (copies - 1)) as u32);
            }
            out
        };
        engine.write_u32(&inputs.src, &stack(&batch.src, n, false))?;
        engine.write_u32(&inputs.dst, &stack(&batch.dst, n, false))?;
        engine.write_u32(&inputs.dst_offsets, &stack(&batch.dst_offsets, e, true))?;
        let (src_offsets, src_perm) = source_csr(&batch.src, n);
        engine.write_u32(&inputs.src_offsets, &stack(&src_offsets, e, true))?;
        engine.write_u32(&inputs.src_perm, &stack(&src_perm, e, false))?;
        engine.write_u32(&inputs.node_graph, &stack(&batch.node_graph, g, false))?;
        engine.write_u32(&inputs.graph_offsets, &stack(&batch.graph_offsets, n, true))?;
        for c in 0..copies {
            inputs.write_features(engine, batch, c)?;
        }
        Ok(inputs)
    }

    /// Errors unless the node scalars are `width` wide.
    pub fn expect_node_scalars(&self, width: usize) -> Result<()> {
        crate::kernels::expect_shape("node scalars", &self.node_scalars, &[self.nodes, width])
    }

    /// Errors unless the edge scalars are `width` wide.
    pub fn expect_edge_scalars(&self, width: usize) -> Result<()> {
        crate::kernels::expect_shape("edge scalars", &self.edge_scalars, &[self.edges, width])
    }

    /// Whether `batch` has the layout these buffers were planned for (copy 0).
    pub fn fits(&self, batch: &GraphBatch, copies: usize) -> bool {
        batch.num_graphs() * copies == self.graphs
            && batch.num_nodes() * copies == self.nodes
            && batch.num_edges() * copies == self.edges
    }

    /// Writes `batch`'s features into copy `copy` (0 for the original batch); the indices are
    /// fixed by the layout and not rewritten. Errors if the layout differs.
    pub fn write_features(&self, engine: &Engine, batch: &GraphBatch, copy: usize) -> Result<()> {
        self.write_parts(engine, batch, copy, true)
    }

    /// Writes only `batch`'s node and edge scalars into copy `copy`: the invariants a
    /// roto-translated copy shares with the original, whose vectors the GPU writes.
    pub fn write_scalars(&self, engine: &Engine, batch: &GraphBatch, copy: usize) -> Result<()> {
        self.write_parts(engine, batch, copy, false)
    }

    fn write_parts(
        &self,
        engine: &Engine,
        batch: &GraphBatch,
        copy: usize,
        vectors: bool,
    ) -> Result<()> {
        let copies = self.graphs / batch.num_graphs().max(1);
        if !self.fits(batch, copies) || copy >= copies {
            return Err(Error::Shape {
                op: "GraphInputs::write_features",
                expected: format!(
                    "copy < {copies} of {} graphs, {} nodes, {} edges",
                    self.graphs / copies.max(1),
                    self.nodes / copies.max(1),
                    self.edges / copies.max(1)
                ),
                got: format!(
                    "copy {copy} of {} graphs, {} nodes, {} edges",
                    batch.num_graphs(),
                    batch.num_nodes(),
                    batch.num_edges()
                ),
            });
        }
        let (n, e) = (batch.num_nodes(), batch.num_edges());
        let rows = |t: &Tensor, count: usize| {
            let width = t.shape()[1];
            t.view(copy * count * width, &[count, width])
        };
        if vectors {
            engine.write(&rows(&self.positions, n), &batch.positions)?;
            engine.write(&rows(&self.velocities, n), &batch.velocities)?;
            engine.write(&rows(&self.targets, n), &batch.targets)?;
        }
        if batch.node_scalar_dim > 0 {
            engine.write(&rows(&self.node_scalars, n), &batch.node_scalars)?;
        }
        if batch.edge_scalar_dim > 0 {
            engine.write(&rows(&self.edge_scalars, e), &batch.edge_scalars)?;
        }
        Ok(())
    }
}

/// A model's buffers and dispatches for one [`GraphInputs`] layout.
#[derive(Debug)]
pub struct ModelPlan {
    /// Prediction per node `[nodes, 3]`.
    pub output: Tensor,
    /// Gradient of the objective with respect to `output`, written by the loss.
    pub d_output: Tensor,
    /// Forward dispatches in order.
    pub forward: Vec<Dispatch>,
    /// Backward dispatches in order: reads `d_output`, writes the parameter gradients.
    pub backward: Vec<Dispatch>,
    /// The last linear layer, whose weight gradients GradNorm compares; `None` for models
    /// whose output is not a plain linear layer.
    pub output_layer: Option<OutputLayer>,
}

/// The last linear layer of a model: `output = input · weight (+ bias)`.
#[derive(Debug, Clone)]
pub struct OutputLayer {
    /// Its input `[nodes, in]`.
    pub input: Tensor,
    /// Its weight `[in, 3]`.
    pub weight: ParamId,
}

/// A trainable network from graph batches to one 3-vector per node.
pub trait Model: std::fmt::Debug {
    /// Short name, e.g. `gnn`.
    fn name(&self) -> &'static str;
    /// Its parameters and their gradients.
    fn params(&self) -> &ParamStore;
    /// Plans the forward and backward for `inputs`, allocating every intermediate buffer.
    fn plan(&self, engine: &Engine, inputs: &GraphInputs) -> Result<ModelPlan>;
    /// CPU twin of the forward in f64: the prediction `[nodes * 3]` for `batch`, with the
    /// parameters given by [`ParamId::index`] (as [`ParamStore::read_values`] returns them).
    fn cpu_forward(&self, params: &[Vec<f64>], batch: &GraphBatch) -> Vec<f64>;
}

/// The steps both graph networks share, each planned for one layer of width `h`.
pub(crate) mod steps {
    use super::GraphInputs;
    use crate::gpu::Dispatch;
    use crate::kernels::{gather, segment_sum, Cols};
    use crate::{Engine, Result, Tensor};

    /// `edge_in[:, 0..h] = h_in[dst]` and `edge_in[:, h..2h] = h_in[src]`: each edge's
    /// receiver and sender features, the first `2h` columns of the edge MLP's input.
    pub fn gather_endpoints(
        engine: &Engine,
        inputs: &GraphInputs,
        h_in: &Tensor,
        edge_in: &Tensor,
        h: usize,
    ) -> Result<Vec<Dispatch>> {
        Ok(vec![
            gather::plan(
                engine,
                Cols::all(h_in),
                Some(&inputs.dst),
                Cols::new(edge_in, 0, h),
                false,
            )?,
            gather::plan(
                engine,
                Cols::all(h_in),
                Some(&inputs.src),
                Cols::new(edge_in, h, h),
                false,
            )?,
        ])
    }

    /// Backward of [`gather_endpoints`]: `dh_in +=` the receiver columns of `d_edge_in`
    /// summed over each node's incoming edges, and the sender columns over its outgoing ones.
    pub fn scatter_endpoints(
        engine: &Engine,
        inputs: &GraphInputs,
        d_edge_in: &Tensor,
        dh_in: &Tensor,
        h: usize,
    ) -> Result<Vec<Dispatch>> {
        Ok(vec![
            segment_sum::plan(
                engine,
                Cols::new(d_edge_in, 0, h),
                &inputs.dst_offsets,
                None,
                Cols::all(dh_in),
                false,
                true,
            )?,
            segment_sum::plan(
                engine,
                Cols::new(d_edge_in, h, h),
                &inputs.src_offsets,
                Some(&inputs.src_perm),
                Cols::all(dh_in),
                false,
                true,
            )?,
        ])
    }

    /// `node_in = [h_in, sum over incoming edges of messages]`, the node MLP's input.
    pub fn aggregate(
        engine: &Engine,
        inputs: &GraphInputs,
        h_in: &Tensor,
        messages: &Tensor,
        node_in: &Tensor,
        h: usize,
    ) -> Result<Vec<Dispatch>> {
        Ok(vec![
            gather::plan(
                engine,
                Cols::all(h_in),
                None,
                Cols::new(node_in, 0, h),
                false,
            )?,
            segment_sum::plan(
                engine,
                Cols::all(messages),
                &inputs.dst_offsets,
                None,
                Cols::new(node_in, h, h),
                false,
                false,
            )?,
        ])
    }

    /// Backward of the message sum in [`aggregate`]: each edge's message gradient is its
    /// receiver's gradient of the summed columns.
    pub fn aggregate_backward(
        engine: &Engine,
        inputs: &GraphInputs,
        d_node_in: &Tensor,
        d_messages: &Tensor,
        h: usize,
    ) -> Result<Dispatch> {
        gather::plan(
            engine,
            Cols::new(d_node_in, h, h),
            Some(&inputs.dst),
            Cols::all(d_messages),
            false,
        )
    }

    /// The residual `out += h_in` (the node MLP's output becomes `h_in + phi_h(...)`).
    pub fn residual(engine: &Engine, h_in: &Tensor, out: &Tensor) -> Result<Dispatch> {
        gather::plan(engine, Cols::all(h_in), None, Cols::all(out), true)
    }

    /// `dh_in = dh_out + d_node_in[:, 0..h]`: the gradient reaching `h_in` through the
    /// residual and through the node MLP's input (later steps add the edges' share).
    pub fn residual_backward(
        engine: &Engine,
        dh_out: &Tensor,
        d_node_in: &Tensor,
        dh_in: &Tensor,
        h: usize,
    ) -> Result<Vec<Dispatch>> {
        Ok(vec![
            gather::plan(engine, Cols::all(dh_out), None, Cols::all(dh_in), false)?,
            gather::plan(
                engine,
                Cols::new(d_node_in, 0, h),
                None,
                Cols::all(dh_in),
                true,
            )?,
        ])
    }
}

/// Row-wise concatenation of matrices with `rows` rows: `parts` are `(values, columns)`.
pub(crate) fn cpu_concat(rows: usize, parts: &[(&[f64], usize)]) -> Vec<f64> {
    let width: usize = parts.iter().map(|p| p.1).sum();
    let mut out = Vec::with_capacity(rows * width);
    for r in 0..rows {
        for (values, cols) in parts {
            out.extend_from_slice(&values[r * cols..(r + 1) * cols]);
        }
    }
    out
}

/// Rows of `values` (`cols` wide) picked by `index`.
pub(crate) fn cpu_rows(values: &[f64], cols: usize, index: &[u32]) -> Vec<f64> {
    index
        .iter()
        .flat_map(|&i| {
            values[i as usize * cols..(i as usize + 1) * cols]
                .iter()
                .copied()
        })
        .collect()
}

/// Sums of edge rows (`cols` wide) into their destination nodes.
pub(crate) fn cpu_segment_sum(values: &[f64], cols: usize, dst_offsets: &[u32]) -> Vec<f64> {
    let nodes = dst_offsets.len() - 1;
    let mut out = vec![0.0; nodes * cols];
    crate::kernels::segment_sum::cpu(
        values,
        (cols, 0),
        dst_offsets,
        None,
        &mut out,
        (cols, 0),
        cols,
        (false, false),
    );
    out
}

/// f32 values as f64.
pub(crate) fn f64s(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}
