"""PyTorch twins of remul's N-body models, for the speed comparison in bench.py.

Each class mirrors the Rust model of the same name layer for layer (see
src/models/{mlp,gnn,egnn}.rs): the same widths, activations, residuals, edge
inputs, aggregation and initialisation bounds. Only the random draws differ
(remul uses its own generator), so outputs are not bit-comparable, only the
shapes of the computation are.

A batch is a `Graphs` of stacked graphs: node rows of one graph are contiguous,
edges j -> i are listed sorted by destination i (as remul's CSR layout needs),
and messages are summed into their destination with `index_add_`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Graphs:
    """A batch of graphs, all tensors on one device.

    positions, velocities, targets: [nodes, 3]; node_scalars: [nodes, k];
    edge_scalars: [edges, m]; src, dst: [edges] (int64, edge j -> i has
    src j, dst i); node_graph: [nodes] (int64); in_degree: [nodes, 1] float.
    """

    positions: torch.Tensor
    velocities: torch.Tensor
    node_scalars: torch.Tensor
    edge_scalars: torch.Tensor
    targets: torch.Tensor
    src: torch.Tensor
    dst: torch.Tensor
    node_graph: torch.Tensor
    in_degree: torch.Tensor
    graphs: int

    @property
    def nodes(self) -> int:
        return self.positions.shape[0]


def segment_sum(values: torch.Tensor, dst: torch.Tensor, nodes: int) -> torch.Tensor:
    """Sum of edge rows into their destination node: [edges, c] -> [nodes, c]."""
    out = values.new_zeros((nodes, values.shape[1]))
    return out.index_add_(0, dst, values)


def linear(fan_in: int, fan_out: int, bias: bool = True) -> nn.Linear:
    """nn.Linear with PyTorch's default init: weight and bias uniform in +-1/sqrt(in),
    the bounds remul's `Init::Default` uses."""
    return nn.Linear(fan_in, fan_out, bias=bias)


def mlp(dims: list[int], last_act: bool) -> nn.Sequential:
    """Linear layers of `dims` with SiLU between them (and after the last if `last_act`),
    as remul's `Mlp::new(dims, act, last_act)`."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(linear(a, b))
        if i < len(dims) - 2 or last_act:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


class GraphMlp(nn.Module):
    """remul's `GraphMlp`: one MLP per whole graph of a fixed size.

    Input per graph `[x (3N), v (3N), node scalars (kN), edge scalars (mE)]`, `layers`
    hidden layers of `hidden` with SiLU, output 3N read as [N, 3] (the predicted positions).
    """

    def __init__(self, hidden: int = 64, layers: int = 4, nodes: int = 5, edges: int = 20,
                 node_scalar_dim: int = 1, edge_scalar_dim: int = 1):
        super().__init__()
        self.n, self.e = nodes, edges
        width = nodes * (6 + node_scalar_dim) + edges * edge_scalar_dim
        self.mlp = mlp([width] + [hidden] * layers + [3 * nodes], last_act=False)

    def forward(self, g: Graphs) -> torch.Tensor:
        count = g.graphs
        x = torch.cat(
            [
                g.positions.reshape(count, -1),
                g.velocities.reshape(count, -1),
                g.node_scalars.reshape(count, -1),
                g.edge_scalars.reshape(count, -1),
            ],
            dim=1,
        )
        return self.mlp(x).reshape(-1, 3)


class GnnLayer(nn.Module):
    def __init__(self, hidden: int, edge_scalar_dim: int):
        super().__init__()
        h = hidden
        # phi_e ends with the activation, as in the EGNN authors' code (and remul).
        self.phi_e = mlp([2 * h + edge_scalar_dim, h, h], last_act=True)
        self.phi_h = mlp([2 * h, h, h], last_act=False)

    def forward(self, h: torch.Tensor, g: Graphs) -> torch.Tensor:
        m = self.phi_e(torch.cat([h[g.dst], h[g.src], g.edge_scalars], dim=1))
        agg = segment_sum(m, g.dst, h.shape[0])
        return h + self.phi_h(torch.cat([h, agg], dim=1))


class Gnn(nn.Module):
    """remul's `Gnn`: embed [x, v] -> hidden; per layer m_ij = phi_e([h_i, h_j, a_ij]),
    h_i <- h_i + phi_h([h_i, sum_j m_ij]); decoder Linear, SiLU, Linear -> positions."""

    def __init__(self, hidden: int = 64, layers: int = 4, edge_scalar_dim: int = 1):
        super().__init__()
        self.embed = linear(6, hidden)
        self.layers = nn.ModuleList(GnnLayer(hidden, edge_scalar_dim) for _ in range(layers))
        self.decoder = mlp([hidden, hidden, 3], last_act=False)

    def forward(self, g: Graphs) -> torch.Tensor:
        h = self.embed(torch.cat([g.positions, g.velocities], dim=1))
        for layer in self.layers:
            h = layer(h, g)
        return self.decoder(h)


CLAMP = 100.0


class EgnnLayer(nn.Module):
    def __init__(self, hidden: int, edge_attr_dim: int):
        super().__init__()
        h = hidden
        # [h_i, h_j, |x_i - x_j|^2, a_ij] with a_ij = [edge scalars, |x0_i - x0_j|^2].
        self.phi_e = mlp([2 * h + 1 + edge_attr_dim, h, h], last_act=True)
        last = linear(h, 1, bias=False)
        nn.init.xavier_uniform_(last.weight, gain=0.001)
        self.phi_x = nn.Sequential(linear(h, h), nn.SiLU(), last)
        self.phi_v = mlp([h, h, 1], last_act=False)
        self.phi_h = mlp([2 * h, h, h], last_act=False)

    def forward(self, h, x, attrs, g: Graphs):
        diff = x[g.dst] - x[g.src]
        sq = (diff * diff).sum(dim=1, keepdim=True)
        m = self.phi_e(torch.cat([h[g.dst], h[g.src], sq, attrs], dim=1))
        trans = torch.clamp(diff * self.phi_x(m), -CLAMP, CLAMP)
        # Mean over incoming edges (in_degree is clamped to >= 1 for isolated nodes).
        x = x + segment_sum(trans, g.dst, x.shape[0]) / g.in_degree + self.phi_v(h) * g.velocities
        agg = segment_sum(m, g.dst, h.shape[0])
        h = h + self.phi_h(torch.cat([h, agg], dim=1))
        return h, x


class Egnn(nn.Module):
    """remul's `Egnn` (N-body variant with velocity): h0 = embed(node scalars), per layer

        m_ij = phi_e([h_i, h_j, |x_i - x_j|^2, q_i q_j, |x0_i - x0_j|^2])
        x_i <- x_i + mean_j clamp((x_i - x_j) phi_x(m_ij), +-100) + phi_v(h_i) v_i
        h_i <- h_i + phi_h([h_i, sum_j m_ij])

    and the output is the final x. phi_x's last layer has no bias, Xavier-uniform gain 0.001.
    """

    def __init__(self, hidden: int = 64, layers: int = 4, node_scalar_dim: int = 1,
                 edge_scalar_dim: int = 1):
        super().__init__()
        self.embed = linear(node_scalar_dim, hidden)
        self.layers = nn.ModuleList(
            EgnnLayer(hidden, edge_scalar_dim + 1) for _ in range(layers)
        )

    def forward(self, g: Graphs) -> torch.Tensor:
        x = g.positions
        diff0 = x[g.dst] - x[g.src]
        attrs = torch.cat([g.edge_scalars, (diff0 * diff0).sum(dim=1, keepdim=True)], dim=1)
        h = self.embed(g.node_scalars)
        for layer in self.layers:
            h, x = layer(h, x, attrs, g)
        return x


def build(kind: str, hidden: int, layers: int, nodes: int = 5, edges: int = 20) -> nn.Module:
    """The model remul calls `kind` (`mlp`, `gnn`, `egnn`) for the charged data
    (node scalar |v|, edge scalar q_i q_j)."""
    if kind == "mlp":
        return GraphMlp(hidden, layers, nodes, edges, 1, 1)
    if kind == "gnn":
        return Gnn(hidden, layers, 1)
    if kind == "egnn":
        return Egnn(hidden, layers, 1, 1)
    raise ValueError(f"unknown model {kind!r} (expected mlp, gnn or egnn)")


# ---------------------------------------------------------------------------------------
# Random roto-translations and the REMUL doubled batch.


def haar_rotations(count: int, generator: torch.Generator | None = None,
                   device=None, dtype=torch.float32) -> torch.Tensor:
    """`count` rotations drawn from the Haar measure on SO(3), [count, 3, 3], drawn on
    `device` (a `generator` must live there too): a normalised Gaussian 4-vector is a
    uniform unit quaternion, whose rotation is Haar distributed."""
    q = torch.randn(count, 4, generator=generator, device=device, dtype=dtype)
    q = q / q.norm(dim=1, keepdim=True)
    w, x, y, z = q.unbind(1)
    r = torch.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ],
        dim=1,
    ).reshape(count, 3, 3)
    return r


def rotate(vectors: torch.Tensor, rotations: torch.Tensor, node_graph: torch.Tensor,
           translations: torch.Tensor | None = None) -> torch.Tensor:
    """R_g v (+ t_g) for every node row of graph g."""
    out = torch.einsum("nij,nj->ni", rotations[node_graph], vectors)
    if translations is not None:
        out = out + translations[node_graph]
    return out


def doubled_layout(g: Graphs) -> Graphs:
    """The index part of the REMUL batch [g ; g']: every graph twice, the copy's nodes and
    graphs numbered after the originals (built once per layout, as remul plans it once)."""
    n = g.nodes
    return Graphs(
        positions=g.positions.new_empty((2 * n, 3)),
        velocities=g.velocities.new_empty((2 * n, 3)),
        node_scalars=g.node_scalars.repeat(2, 1),
        edge_scalars=g.edge_scalars.repeat(2, 1),
        targets=g.targets.new_empty((2 * n, 3)),
        src=torch.cat([g.src, g.src + n]),
        dst=torch.cat([g.dst, g.dst + n]),
        node_graph=torch.cat([g.node_graph, g.node_graph + g.graphs]),
        in_degree=g.in_degree.repeat(2, 1),
        graphs=2 * g.graphs,
    )


def remul_batch(g: Graphs, layout: Graphs, rotations: torch.Tensor,
                translations: torch.Tensor) -> Graphs:
    """[g ; R g + t]: positions R x + t, velocities R v, targets R y + t, scalars copied
    (they are invariant). `layout` comes from `doubled_layout(g)` (indices only)."""
    ng = g.node_graph
    return Graphs(
        positions=torch.cat([g.positions, rotate(g.positions, rotations, ng, translations)]),
        velocities=torch.cat([g.velocities, rotate(g.velocities, rotations, ng)]),
        node_scalars=torch.cat([g.node_scalars, g.node_scalars]),
        edge_scalars=torch.cat([g.edge_scalars, g.edge_scalars]),
        targets=torch.cat([g.targets, rotate(g.targets, rotations, ng, translations)]),
        src=layout.src,
        dst=layout.dst,
        node_graph=layout.node_graph,
        in_degree=layout.in_degree,
        graphs=layout.graphs,
    )


def remul_loss(out: torch.Tensor, targets: torch.Tensor, nodes: int,
               alpha: float = 1.0, beta: float = 1.0) -> torch.Tensor:
    """alpha * MSE(f(x), y) + beta * MSE(f(Rx + t), Ry + t) over the doubled batch
    (label form), each a mean over the original batch's nodes * 3 numbers."""
    task = torch.mean((out[:nodes] - targets[:nodes]) ** 2)
    equi = torch.mean((out[nodes:] - targets[nodes:]) ** 2)
    return alpha * task + beta * equi


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def xavier_bound(fan_in: int, fan_out: int, gain: float) -> float:
    return gain * math.sqrt(6.0 / (fan_in + fan_out))
