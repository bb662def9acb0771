//! Graphs on the host: [`GraphSet`], a flat store of many graphs of any sizes; the
//! [`Dataset`] trait every dataset implements; and [`GraphBatch`], the f32 layout that the
//! training loop uploads.
//!
//! Edges are directed `src -> dst` and kept sorted by destination, so that message
//! aggregation is a segment sum over `dst_offsets` (CSR) without float atomics.

use super::DataError;

/// One graph, borrowed from a dataset. Node and edge indices are local to the graph.
#[derive(Clone, Copy, Debug)]
pub struct GraphView<'a> {
    /// Node positions `[nodes, 3]`.
    pub positions: &'a [f64],
    /// Node velocities `[nodes, 3]`.
    pub velocities: &'a [f64],
    /// Node scalars `[nodes, k]` (e.g. |v|, mass).
    pub node_scalars: &'a [f64],
    /// Regression targets `[nodes, 3]` (e.g. future positions).
    pub targets: &'a [f64],
    /// Source node of each edge `[edges]`.
    pub src: &'a [u32],
    /// Destination node of each edge `[edges]`.
    pub dst: &'a [u32],
    /// Edge scalars `[edges, m]` (e.g. q_i q_j).
    pub edge_scalars: &'a [f64],
}

impl GraphView<'_> {
    /// Number of nodes.
    pub fn num_nodes(&self) -> usize {
        self.positions.len() / 3
    }

    /// Number of directed edges.
    pub fn num_edges(&self) -> usize {
        self.src.len()
    }
}

/// Many graphs stored flat: one vector per field for all graphs, plus per-graph offsets.
/// Graphs may differ in node and edge counts; edges are kept sorted by destination.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphSet {
    node_scalar_dim: usize,
    edge_scalar_dim: usize,
    node_offsets: Vec<usize>,
    edge_offsets: Vec<usize>,
    positions: Vec<f64>,
    velocities: Vec<f64>,
    node_scalars: Vec<f64>,
    targets: Vec<f64>,
    src: Vec<u32>,
    dst: Vec<u32>,
    edge_scalars: Vec<f64>,
}

impl GraphSet {
    /// An empty set whose graphs have `node_scalar_dim` scalars per node and
    /// `edge_scalar_dim` per edge.
    pub fn new(node_scalar_dim: usize, edge_scalar_dim: usize) -> Self {
        GraphSet {
            node_scalar_dim,
            edge_scalar_dim,
            node_offsets: vec![0],
            edge_offsets: vec![0],
            ..Default::default()
        }
    }

    /// Reserves room for `graphs` more graphs of `nodes` nodes and `edges` edges each.
    pub fn reserve(&mut self, graphs: usize, nodes: usize, edges: usize) {
        let n = graphs * nodes;
        let e = graphs * edges;
        self.node_offsets.reserve(graphs);
        self.edge_offsets.reserve(graphs);
        self.positions.reserve(3 * n);
        self.velocities.reserve(3 * n);
        self.targets.reserve(3 * n);
        self.node_scalars.reserve(self.node_scalar_dim * n);
        self.src.reserve(e);
        self.dst.reserve(e);
        self.edge_scalars.reserve(self.edge_scalar_dim * e);
    }

    /// Scalars per node.
    pub fn node_scalar_dim(&self) -> usize {
        self.node_scalar_dim
    }

    /// Scalars per edge.
    pub fn edge_scalar_dim(&self) -> usize {
        self.edge_scalar_dim
    }

    /// Number of graphs.
    pub fn len(&self) -> usize {
        self.node_offsets.len().saturating_sub(1)
    }

    /// Whether the set holds no graph.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total nodes over all graphs.
    pub fn total_nodes(&self) -> usize {
        self.positions.len() / 3
    }

    /// Appends a graph after checking its field lengths, edge endpoints and values; its
    /// edges are stored sorted by destination (stable, so equal destinations keep their
    /// order).
    pub fn push(&mut self, g: &GraphView<'_>) -> Result<(), DataError> {
        let n = g.positions.len() / 3;
        let e = g.src.len();
        let k = self.node_scalar_dim;
        let m = self.edge_scalar_dim;
        let lengths = [
            ("positions", g.positions.len(), 3 * n),
            ("velocities", g.velocities.len(), 3 * n),
            ("targets", g.targets.len(), 3 * n),
            ("node_scalars", g.node_scalars.len(), k * n),
            ("dst", g.dst.len(), e),
            ("edge_scalars", g.edge_scalars.len(), m * e),
        ];
        if !g.positions.len().is_multiple_of(3) {
            return Err(DataError::InvalidGraph(format!(
                "positions has {} values, not a multiple of 3",
                g.positions.len()
            )));
        }
        for (field, found, expected) in lengths {
            if found != expected {
                return Err(DataError::InvalidGraph(format!(
                    "{field} has {found} values, expected {expected} for {n} nodes and {e} edges"
                )));
            }
        }
        if let Some(bad) = g.src.iter().chain(g.dst).find(|&&i| i as usize >= n) {
            return Err(DataError::InvalidGraph(format!(
                "edge endpoint {bad} is not a node of a graph with {n} nodes"
            )));
        }
        let fields = [
            ("positions", g.positions),
            ("velocities", g.velocities),
            ("targets", g.targets),
            ("node_scalars", g.node_scalars),
            ("edge_scalars", g.edge_scalars),
        ];
        for (field, values) in fields {
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(DataError::InvalidGraph(format!(
                    "{field}[{i}] is {}",
                    values[i]
                )));
            }
        }
        if self.node_offsets.is_empty() {
            self.node_offsets.push(0);
            self.edge_offsets.push(0);
        }

        self.positions.extend_from_slice(g.positions);
        self.velocities.extend_from_slice(g.velocities);
        self.targets.extend_from_slice(g.targets);
        self.node_scalars.extend_from_slice(g.node_scalars);
        let mut order: Vec<usize> = (0..e).collect();
        order.sort_by_key(|&i| g.dst[i]);
        for &i in &order {
            self.src.push(g.src[i]);
            self.dst.push(g.dst[i]);
            self.edge_scalars
                .extend_from_slice(&g.edge_scalars[i * m..(i + 1) * m]);
        }
        self.node_offsets.push(self.total_nodes());
        self.edge_offsets.push(self.src.len());
        Ok(())
    }

    /// Graph `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<GraphView<'_>> {
        if index >= self.len() {
            return None;
        }
        let (n0, n1) = (self.node_offsets[index], self.node_offsets[index + 1]);
        let (e0, e1) = (self.edge_offsets[index], self.edge_offsets[index + 1]);
        let (k, m) = (self.node_scalar_dim, self.edge_scalar_dim);
        Some(GraphView {
            positions: &self.positions[3 * n0..3 * n1],
            velocities: &self.velocities[3 * n0..3 * n1],
            node_scalars: &self.node_scalars[k * n0..k * n1],
            targets: &self.targets[3 * n0..3 * n1],
            src: &self.src[e0..e1],
            dst: &self.dst[e0..e1],
            edge_scalars: &self.edge_scalars[m * e0..m * e1],
        })
    }
}

/// Anything that serves graphs by index: the charged and gravity N-body datasets, or a
/// hand-built [`GraphSet`].
pub trait Dataset: Send + Sync {
    /// Number of graphs (samples).
    fn len(&self) -> usize;

    /// Scalars per node in every graph.
    fn node_scalar_dim(&self) -> usize;

    /// Scalars per edge in every graph.
    fn edge_scalar_dim(&self) -> usize;

    /// Graph `index`; `Some` for every index below [`len`](Dataset::len).
    fn graph(&self, index: usize) -> Option<GraphView<'_>>;

    /// Whether the dataset holds no graph.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Assembles the graphs `indices` (in that order) into `out`, reusing its allocations.
    fn batch_into(&self, indices: &[usize], out: &mut GraphBatch) -> Result<(), DataError> {
        out.clear(self.node_scalar_dim(), self.edge_scalar_dim());
        for &index in indices {
            let g = self.graph(index).ok_or(DataError::IndexOutOfRange {
                index,
                len: self.len(),
            })?;
            out.push(index, &g)?;
        }
        Ok(())
    }

    /// Assembles the graphs `indices` (in that order) into a new batch.
    fn batch(&self, indices: &[usize]) -> Result<GraphBatch, DataError> {
        let mut out = GraphBatch::default();
        self.batch_into(indices, &mut out)?;
        Ok(out)
    }
}

impl Dataset for GraphSet {
    fn len(&self) -> usize {
        GraphSet::len(self)
    }

    fn node_scalar_dim(&self) -> usize {
        self.node_scalar_dim
    }

    fn edge_scalar_dim(&self) -> usize {
        self.edge_scalar_dim
    }

    fn graph(&self, index: usize) -> Option<GraphView<'_>> {
        self.get(index)
    }
}

/// Graphs flattened into one batch, f32 for upload. Node `i` of graph `g` is global node
/// `graph_offsets[g] + i`; edge endpoints are global node indices; edges are sorted by
/// destination, and the edges into node `n` are `dst_offsets[n]..dst_offsets[n + 1]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphBatch {
    /// Dataset index of each graph `[graphs]`.
    pub samples: Vec<usize>,
    /// First node of each graph, plus the total `[graphs + 1]`.
    pub graph_offsets: Vec<u32>,
    /// Graph of each node `[nodes]`.
    pub node_graph: Vec<u32>,
    /// Node positions `[nodes, 3]`.
    pub positions: Vec<f32>,
    /// Node velocities `[nodes, 3]`.
    pub velocities: Vec<f32>,
    /// Scalars per node (`node_scalars.len() / nodes`).
    pub node_scalar_dim: usize,
    /// Node scalars `[nodes, node_scalar_dim]`.
    pub node_scalars: Vec<f32>,
    /// Regression targets `[nodes, 3]`.
    pub targets: Vec<f32>,
    /// First incoming edge of each node, plus the total `[nodes + 1]`.
    pub dst_offsets: Vec<u32>,
    /// Source node of each edge `[edges]`.
    pub src: Vec<u32>,
    /// Destination node of each edge, non-decreasing `[edges]`.
    pub dst: Vec<u32>,
    /// Scalars per edge.
    pub edge_scalar_dim: usize,
    /// Edge scalars `[edges, edge_scalar_dim]`.
    pub edge_scalars: Vec<f32>,
}

fn to_u32(value: usize, what: &str) -> Result<u32, DataError> {
    u32::try_from(value)
        .map_err(|_| DataError::Config(format!("a batch of more than u32::MAX {what}")))
}

impl GraphBatch {
    /// Number of graphs.
    pub fn num_graphs(&self) -> usize {
        self.graph_offsets.len().saturating_sub(1)
    }

    /// Number of nodes over all graphs.
    pub fn num_nodes(&self) -> usize {
        self.node_graph.len()
    }

    /// Number of edges over all graphs.
    pub fn num_edges(&self) -> usize {
        self.src.len()
    }

    /// Empties the batch, keeping its allocations, for graphs of the given scalar widths.
    pub fn clear(&mut self, node_scalar_dim: usize, edge_scalar_dim: usize) {
        self.samples.clear();
        self.graph_offsets.clear();
        self.graph_offsets.push(0);
        self.node_graph.clear();
        self.positions.clear();
        self.velocities.clear();
        self.node_scalars.clear();
        self.targets.clear();
        self.dst_offsets.clear();
        self.dst_offsets.push(0);
        self.src.clear();
        self.dst.clear();
        self.edge_scalars.clear();
        self.node_scalar_dim = node_scalar_dim;
        self.edge_scalar_dim = edge_scalar_dim;
    }

    /// Appends one graph whose edges are sorted by destination (as [`GraphSet`] keeps
    /// them); `sample` is its dataset index.
    pub fn push(&mut self, sample: usize, g: &GraphView<'_>) -> Result<(), DataError> {
        if self.graph_offsets.is_empty() {
            self.clear(self.node_scalar_dim, self.edge_scalar_dim);
        }
        let n = g.num_nodes();
        let graph = to_u32(self.num_graphs(), "graphs")?;
        let base = self.num_nodes();
        let end = to_u32(base + n, "nodes")?;
        to_u32(self.num_edges() + g.num_edges(), "edges")?;
        if g.node_scalars.len() != n * self.node_scalar_dim
            || g.edge_scalars.len() != g.num_edges() * self.edge_scalar_dim
        {
            return Err(DataError::InvalidGraph(format!(
                "sample {sample} has {} node and {} edge scalars; the batch holds {} per node \
                 and {} per edge",
                g.node_scalars.len(),
                g.edge_scalars.len(),
                self.node_scalar_dim,
                self.edge_scalar_dim
            )));
        }
        if g.dst.windows(2).any(|w| w[0] > w[1]) {
            return Err(DataError::InvalidGraph(format!(
                "sample {sample} has edges not sorted by destination"
            )));
        }

        self.samples.push(sample);
        self.node_graph.extend(std::iter::repeat_n(graph, n));
        self.graph_offsets.push(end);
        self.positions.extend(g.positions.iter().map(|&x| x as f32));
        self.velocities
            .extend(g.velocities.iter().map(|&x| x as f32));
        self.node_scalars
            .extend(g.node_scalars.iter().map(|&x| x as f32));
        self.targets.extend(g.targets.iter().map(|&x| x as f32));
        self.edge_scalars
            .extend(g.edge_scalars.iter().map(|&x| x as f32));

        // Edges: shift endpoints to global indices, then extend the CSR offsets node by node.
        let base32 = base as u32;
        let first_edge = self.src.len();
        self.src.extend(g.src.iter().map(|&s| s + base32));
        self.dst.extend(g.dst.iter().map(|&d| d + base32));
        let mut e = 0;
        for local in 0..n as u32 {
            while e < g.dst.len() && g.dst[e] == local {
                e += 1;
            }
            self.dst_offsets.push((first_edge + e) as u32);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_sorts_edges_by_destination_stably() {
        let mut set = GraphSet::new(0, 1);
        let x = [0.0; 9];
        set.push(&GraphView {
            positions: &x,
            velocities: &x,
            node_scalars: &[],
            targets: &x,
            src: &[0, 1, 2, 0],
            dst: &[2, 0, 0, 1],
            edge_scalars: &[10.0, 20.0, 30.0, 40.0],
        })
        .unwrap();
        let g = set.get(0).unwrap();
        assert_eq!(g.dst, &[0, 0, 1, 2]);
        assert_eq!(g.src, &[1, 2, 0, 0]);
        assert_eq!(g.edge_scalars, &[20.0, 30.0, 40.0, 10.0]);
    }
}
