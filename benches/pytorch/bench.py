#!/usr/bin/env python3
"""PyTorch side of `remul bench --compare`: the same models, sizes and figures as
`remul bench`'s model suite, written as a report `remul bench --compare` reads.

    python benches/pytorch/bench.py --out pytorch.json
    remul bench --compare remul.json pytorch.json

Figures (the definitions remul uses, src/bench/mod.rs):
  train_graphs_per_s  graphs per second over whole optimizer steps (batch assembly, the
                      REMUL transform, forward, loss, backward, Adam step), warm-up steps
                      excluded, median over repeats of --steps steps; the doubled REMUL
                      batch counts its original graphs only.
  inference_ms        milliseconds of one no-grad forward over one batch, median.
  kernels             matmul_nn_{256,512,1024,2048}: one square torch.mm, median.

See README.md beside this file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ in the repository
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import models as M  # noqa: E402

PARTICLES = 5
EDGES_PER_GRAPH = PARTICLES * (PARTICLES - 1)
INPUT_FRAME, TARGET_FRAME = 30, 40  # remul's ChargedDataset defaults
DEFAULT_SUFFIX = "charged5_initvel1small"

# (model, objective, learning rate), in the order remul's suite runs them.
SUITE = [
    ("mlp", "plain", 1e-3),
    ("gnn", "plain", 1e-3),
    ("egnn", "plain", 5e-4),
    ("gnn", "remul", 1e-3),
]
WEIGHT_DECAY = 1e-12


# ---------------------------------------------------------------------------------------
# Data: a pool of N-body samples, [samples, particles, ...] tensors.


class Pool:
    """Samples of the charged N-body task: positions, velocities, targets [S, 5, 3],
    node scalar |v| [S, 5, 1], edge scalar q_i q_j [S, 20, 1] (edges j -> i, by i then j)."""

    def __init__(self, pos, vel, target, edge_q):
        self.pos, self.vel, self.target = pos, vel, target
        self.speed = vel.norm(dim=2, keepdim=True)
        self.edge_q = edge_q

    def __len__(self):
        return self.pos.shape[0]

    def to(self, device, dtype=torch.float32):
        return Pool(*(t.to(device=device, dtype=dtype)
                      for t in (self.pos, self.vel, self.target, self.edge_q)))


def edge_pairs(n: int = PARTICLES):
    """(dst, src) of the ordered pairs i != j, sorted by destination, as remul lists them."""
    return [(i, j) for i in range(n) for j in range(n) if i != j]


def random_pool(samples: int, generator: torch.Generator) -> Pool:
    """Inputs of the right shapes and scales: positions ~ N(0, 1), velocities of norm 0.5
    in a uniform direction, charges +-1; targets a plausible later frame."""
    pos = torch.randn(samples, PARTICLES, 3, generator=generator, dtype=torch.float64)
    d = torch.randn(samples, PARTICLES, 3, generator=generator, dtype=torch.float64)
    vel = 0.5 * d / d.norm(dim=2, keepdim=True)
    target = pos + vel + 0.1 * torch.randn(pos.shape, generator=generator, dtype=torch.float64)
    q = torch.randint(0, 2, (samples, PARTICLES), generator=generator).double() * 2 - 1
    dst, src = zip(*edge_pairs())
    edge_q = (q[:, list(dst)] * q[:, list(src)]).unsqueeze(2)
    return Pool(pos, vel, target, edge_q)


def npy_pool(directory: Path, split: str, suffix: str, limit: int | None) -> Pool:
    """The EGNN data files `{loc,vel,edges}_{split}_{suffix}.npy` (loc and vel
    [samples, frames, 3, particles], edges [samples, particles, particles] = q q^T)."""
    import numpy as np

    def load(name):
        path = directory / f"{name}_{split}_{suffix}.npy"
        array = np.load(path, mmap_mode="r")
        return array if limit is None else array[:limit]

    loc, vel, edges = load("loc"), load("vel"), load("edges")
    if loc.ndim != 4 or loc.shape[2] != 3 or loc.shape[3] != PARTICLES:
        raise SystemExit(f"{directory}: loc_{split} has shape {loc.shape}, expected "
                         f"[samples, frames, 3, {PARTICLES}]")
    if loc.shape[1] <= TARGET_FRAME:
        raise SystemExit(f"{directory}: {loc.shape[1]} frames, need more than {TARGET_FRAME}")
    frame = lambda a, f: torch.from_numpy(np.array(a[:, f].transpose(0, 2, 1), order="C"))  # noqa: E731
    dst, src = zip(*edge_pairs())
    e = torch.from_numpy(np.array(edges, order="C")).double()
    edge_q = e[:, list(dst), list(src)].unsqueeze(2)
    return Pool(frame(loc, INPUT_FRAME).double(), frame(vel, INPUT_FRAME).double(),
                frame(loc, TARGET_FRAME).double(), edge_q)


class Layout:
    """The index arrays of a batch of `graphs` 5-particle graphs (built once, as remul
    plans once per layout)."""

    def __init__(self, graphs: int, device):
        pairs = torch.tensor(edge_pairs(), dtype=torch.long)
        offsets = (torch.arange(graphs, dtype=torch.long) * PARTICLES).repeat_interleave(
            EDGES_PER_GRAPH)
        self.graphs = graphs
        self.dst = (pairs[:, 0].repeat(graphs) + offsets).to(device)
        self.src = (pairs[:, 1].repeat(graphs) + offsets).to(device)
        self.node_graph = torch.arange(graphs, device=device).repeat_interleave(PARTICLES)
        degree = torch.bincount(self.dst, minlength=graphs * PARTICLES).clamp(min=1)
        self.in_degree = degree.to(torch.float32).unsqueeze(1)

    def batch(self, pool: Pool, index: torch.Tensor) -> M.Graphs:
        """Graphs `index` of `pool`, stacked."""
        flat = lambda t: t[index].reshape(-1, t.shape[2])  # noqa: E731
        return M.Graphs(
            positions=flat(pool.pos), velocities=flat(pool.vel),
            node_scalars=flat(pool.speed), edge_scalars=flat(pool.edge_q),
            targets=flat(pool.target), src=self.src, dst=self.dst,
            node_graph=self.node_graph, in_degree=self.in_degree.to(pool.pos.dtype),
            graphs=self.graphs,
        )


def batches(pool_size: int, batch: int, generator: torch.Generator, device):
    """Endless shuffled batches of indices, epoch after epoch, dropping the last partial."""
    while True:
        perm = torch.randperm(pool_size, generator=generator).to(device)
        for s in range(pool_size // batch):
            yield perm[s * batch:(s + 1) * batch]


# ---------------------------------------------------------------------------------------
# Timing.


def sync(device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_rate(kind, objective, lr, sizes, pool, device, args, seed):
    """Median training graphs/s of `kind` under `objective` (plain or remul)."""
    torch.manual_seed(seed)
    model = M.build(kind, sizes["hidden"], sizes["layers"]).to(device)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=WEIGHT_DECAY)
    b = sizes["batch"]
    layout = Layout(b, device)
    remul = objective == "remul"
    double = M.doubled_layout(layout.batch(pool, torch.arange(b, device=device))) if remul else None
    gen = torch.Generator().manual_seed(seed)
    device_gen = torch.Generator(device=device).manual_seed(seed)
    stream = batches(len(pool), b, gen, device)

    def step():
        g = layout.batch(pool, next(stream))
        if remul:
            r = M.haar_rotations(b, device_gen, device=device)
            t = torch.randn(b, 3, generator=device_gen, device=device)
            g2 = M.remul_batch(g, double, r, t)
            loss = M.remul_loss(model(g2), g2.targets, g.nodes, 1.0, 1.0)
        else:
            loss = torch.mean((model(g) - g.targets) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        loss = step()
    sync(device)
    if args.warmup and not math.isfinite(float(loss.detach())):
        raise SystemExit(f"{kind} {objective}: the training loss is {float(loss.detach())}")
    rates = []
    for _ in range(args.repeats):
        sync(device)
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        sync(device)
        rates.append(args.steps * b / (time.perf_counter() - start))
    return model, statistics.median(rates)


def inference_ms(model, sizes, pool, device, args):
    """Median milliseconds of one no-grad forward over the first `batch` graphs."""
    b = min(sizes["batch"], len(pool))
    g = Layout(b, device).batch(pool, torch.arange(b, device=device))
    model.eval()
    times = []
    with torch.inference_mode():
        for _ in range(3):
            model(g)
        for _ in range(max(args.infer_repeats, 3)):
            sync(device)
            start = time.perf_counter()
            model(g)
            sync(device)
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def matmul_kernels(sizes, device, measurements=5, min_seconds=0.02, max_reps=1000):
    """Square torch.mm as remul's matmul_nn_{s}: each measurement repeats the product until
    it lasts min_seconds (at most max_reps), median of `measurements`."""
    out = []
    gen = torch.Generator().manual_seed(7)
    for s in sizes:
        a = (torch.rand(s, s, generator=gen) * 2 - 1).to(device)
        b = (torch.rand(s, s, generator=gen) * 2 - 1).to(device)
        c = torch.empty(s, s, device=device)
        torch.mm(a, b, out=c)
        sync(device)
        times = []
        for _ in range(measurements):
            reps, start = 0, time.perf_counter()
            while True:
                torch.mm(a, b, out=c)
                reps += 1
                sync(device)
                elapsed = time.perf_counter() - start
                if elapsed >= min_seconds or reps >= max_reps:
                    break
            times.append(elapsed / reps)
        t = statistics.median(times)
        out.append({
            "name": f"matmul_nn_{s}",
            "family": "matmul",
            "shape": f"NN m={s} n={s} k={s}",
            "ms": t * 1e3,
            "gflops": 2.0 * s ** 3 / t * 1e-9,
            "gbps": 4.0 * 3 * s * s / t * 1e-9,
            "percent_of_ceiling": None,
        })
    return out


# ---------------------------------------------------------------------------------------
# The self-check.


def run_check(device, pool_src: Pool | None):
    """Output shapes, EGNN E(3) equivariance, the REMUL doubled batch, the edge layout and
    one finite training step per model. Returns the number of failures."""
    results = []

    def report(name, ok, detail=""):
        results.append(ok)
        print(f"  {'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")

    print("check:")
    gen = torch.Generator().manual_seed(1)
    graphs, hidden, layers = 8, 32, 3
    base = (pool_src if pool_src is not None and len(pool_src) >= graphs
            else random_pool(graphs, gen))
    pool = base.to(device)
    layout = Layout(graphs, device)
    g = layout.batch(pool, torch.arange(graphs, device=device))
    n = g.nodes

    # Edge layout: sorted by destination, 4 incoming edges each, no self-loops.
    ok = bool((g.dst[1:] >= g.dst[:-1]).all()) and bool((g.src != g.dst).all())
    ok &= bool((torch.bincount(g.dst) == PARTICLES - 1).all())
    ok &= bool((g.dst // PARTICLES == g.src // PARTICLES).all())
    report("edge layout (sorted by destination, 4 in-edges, within graphs)", ok)
    values = torch.randn(g.dst.shape[0], 7, generator=gen).to(device)
    dense = values.reshape(n, PARTICLES - 1, 7).sum(1)
    report("segment_sum equals the per-node sum", torch.allclose(
        M.segment_sum(values, g.dst, n), dense, atol=1e-5))

    torch.manual_seed(0)
    built = {k: M.build(k, hidden, layers).to(device) for k in ("mlp", "gnn", "egnn")}
    with torch.no_grad():
        for kind, model in built.items():
            out = model(g)
            report(f"{kind} output shape", tuple(out.shape) == (n, 3), str(tuple(out.shape)))
    last = built["egnn"].layers[0].phi_x[2]
    bound = M.xavier_bound(hidden, 1, 0.001)
    report("egnn phi_x last layer: no bias, Xavier gain 0.001",
           last.bias is None and float(last.weight.detach().abs().max()) <= bound)
    width = built["egnn"].layers[0].phi_e[0].in_features
    report("egnn phi_e input [h_i, h_j, |x_i-x_j|^2, q_i q_j, |x0_i-x0_j|^2]",
           width == 2 * hidden + 3, str(width))
    report("gnn phi_e input [h_i, h_j, q_i q_j]",
           built["gnn"].layers[0].phi_e[0].in_features == 2 * hidden + 1)

    def equivariance_error(model, dtype):
        model = model.to(dtype)
        gd = layout.batch(base.to(device, dtype), torch.arange(graphs, device=device))
        r = M.haar_rotations(graphs, torch.Generator().manual_seed(3), dtype=dtype).to(device)
        t = torch.randn(graphs, 3, generator=torch.Generator().manual_seed(4),
                        dtype=dtype).to(device)
        layout2 = M.doubled_layout(gd)
        g2 = M.remul_batch(gd, layout2, r, t)
        moved = M.Graphs(
            positions=M.rotate(gd.positions, r, gd.node_graph, t),
            velocities=M.rotate(gd.velocities, r, gd.node_graph),
            node_scalars=gd.node_scalars, edge_scalars=gd.edge_scalars,
            targets=M.rotate(gd.targets, r, gd.node_graph, t), src=gd.src, dst=gd.dst,
            node_graph=gd.node_graph, in_degree=gd.in_degree, graphs=graphs)
        with torch.no_grad():
            f = model(gd)
            f_moved = model(moved)
            f2 = model(g2)
        want = M.rotate(f, r, gd.node_graph, t)
        err = float((f_moved - want).abs().max())
        err_doubled = float((f2[n:] - want).abs().max())
        same_first = float((f2[:n] - f).abs().max())
        model.to(torch.float32)
        return err, err_doubled, same_first

    rot = M.haar_rotations(1000, torch.Generator().manual_seed(5), dtype=torch.float64)
    ortho = float((rot @ rot.transpose(1, 2) - torch.eye(3, dtype=torch.float64)).abs().max())
    det = float((torch.linalg.det(rot) - 1).abs().max())
    report("rotations are proper orthogonal", ortho < 1e-12 and det < 1e-12,
           f"|R R^T - I| {ortho:.1e}, |det R - 1| {det:.1e}")

    egnn = built["egnn"]
    err, err2, same = equivariance_error(egnn, torch.float32)
    report("egnn f(Rx+t, Rv) = R f(x, v) + t (float32, 1e-4)", err <= 1e-4, f"max error {err:.2e}")
    report("egnn on the doubled REMUL batch: copy = R f(x) + t (1e-4)", err2 <= 1e-4,
           f"max error {err2:.2e}")
    report("doubled batch: first half equals the plain forward", same <= 1e-5, f"{same:.1e}")
    # The coordinate term starts near zero (gain 0.001); check with it at full strength too.
    strong = M.build("egnn", hidden, layers).to(device)
    strong.load_state_dict(egnn.state_dict())
    for layer in strong.layers:
        torch.nn.init.uniform_(layer.phi_x[2].weight, -1 / math.sqrt(hidden), 1 / math.sqrt(hidden))
    err, _, _ = equivariance_error(strong, torch.float32)
    report("egnn equivariance with a full-scale phi_x (float32, 1e-4)", err <= 1e-4,
           f"max error {err:.2e}")
    err64, _, _ = equivariance_error(strong, torch.float64)
    report("egnn equivariance in float64 (1e-10)", err64 <= 1e-10, f"max error {err64:.2e}")
    gnn_err, _, _ = equivariance_error(built["gnn"], torch.float32)
    report("gnn is not equivariant (the check can tell)", gnn_err > 1e-2,
           f"max error {gnn_err:.2e}")

    # One step of each configuration: finite loss, every parameter gets a gradient.
    double = M.doubled_layout(g)
    for kind, objective, lr in SUITE:
        torch.manual_seed(0)
        model = M.build(kind, hidden, layers).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=WEIGHT_DECAY)
        if objective == "remul":
            r = M.haar_rotations(graphs, device=device)
            t = torch.randn(graphs, 3, device=device)
            g2 = M.remul_batch(g, double, r, t)
            loss = M.remul_loss(model(g2), g2.targets, n)
        else:
            loss = torch.mean((model(g) - g.targets) ** 2)
        opt.zero_grad()
        loss.backward()
        # The last EGNN layer's feature update feeds nothing (remul computes it too and
        # leaves its gradient zero); every other parameter must get a gradient.
        unused = f"layers.{layers - 1}.phi_h." if kind == "egnn" else None
        grads = all(p.grad is not None for name, p in model.named_parameters()
                    if unused is None or not name.startswith(unused))
        opt.step()
        report(f"{kind} {objective}: one Adam step", math.isfinite(float(loss)) and grads,
               f"loss {float(loss):.4f}, {M.param_count(model)} parameters")

    failed = results.count(False)
    print(f"check: {results.count(True)} passed, {failed} failed")
    return failed


# ---------------------------------------------------------------------------------------
# The report.


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def os_name() -> str:
    return {"darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)


def adapter(device: torch.device) -> dict:
    version = torch.__version__
    if device.type == "cuda":
        return {
            "name": torch.cuda.get_device_name(device),
            "backend": "cuda",
            "device_type": "DiscreteGpu",
            "driver": f"torch {version}, CUDA {torch.version.cuda}",
        }
    return {
        "name": cpu_name(),
        "backend": "cpu",
        "device_type": "Cpu",
        "driver": f"torch {version}, {torch.get_num_threads()} threads",
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help="write the JSON report here (default: stdout)")
    p.add_argument("--device", default=None,
                   help="cpu or cuda (default: cuda when available, else cpu)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats of --steps steps per model; the median is reported "
                        "(default 5, quick 2)")
    p.add_argument("--warmup", type=int, default=None,
                   help="untimed training steps first (default 10, quick 2)")
    p.add_argument("--steps", type=int, default=None,
                   help="training steps per repeat (default 10 = one epoch of remul's "
                        "1000-graph suite data, quick 4)")
    p.add_argument("--infer-repeats", type=int, default=None,
                   help="timed inference forwards (default 50, quick 5)")
    p.add_argument("--quick", action="store_true",
                   help="remul's quick sizes (batch 10, hidden 16, 2 layers), a few seconds")
    p.add_argument("--check", action="store_true",
                   help="run the self-check first (shapes, EGNN equivariance); exit 1 on failure")
    p.add_argument("--check-only", action="store_true", help="run the self-check and stop")
    p.add_argument("--data", type=Path, default=None,
                   help="folder of EGNN .npy files (loc/vel/edges_{train,test}_SUFFIX.npy); "
                        "default: random inputs of the right shapes")
    p.add_argument("--suffix", default=DEFAULT_SUFFIX, help="file name suffix for --data")
    p.add_argument("--train-samples", type=int, default=None,
                   help="training pool size (default 1000 as in remul's suite, quick 40)")
    p.add_argument("--models", default=None,
                   help="comma-separated subset of mlp,gnn,egnn,gnn-remul (default all)")
    p.add_argument("--no-kernels", action="store_true", help="skip the matmul kernels")
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads (default: PyTorch's own choice)")
    args = p.parse_args(argv)

    quick = args.quick
    for name, full, small in [("repeats", 5, 2), ("warmup", 10, 2), ("steps", 10, 4),
                              ("infer_repeats", 50, 5), ("train_samples", 1000, 40)]:
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    if min(args.repeats, args.steps) < 1 or args.warmup < 0:
        p.error("--repeats and --steps must be at least 1, --warmup at least 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: this PyTorch build sees no CUDA device")
    sizes = ({"batch": 10, "hidden": 16, "layers": 2} if quick
             else {"batch": 100, "hidden": 64, "layers": 4})

    gen = torch.Generator().manual_seed(43)
    if args.data:
        train_pool = npy_pool(args.data, "train", args.suffix, args.train_samples)
        test_pool = npy_pool(args.data, "test", args.suffix, sizes["batch"])
    else:
        train_pool = random_pool(args.train_samples, gen)
        test_pool = random_pool(sizes["batch"], gen)

    info = adapter(device)
    print(f"pytorch {torch.__version__} on {info['name']} ({info['backend']}, "
          f"{torch.get_num_threads()} threads)", file=sys.stderr)
    if args.check or args.check_only:
        failed = run_check(device, train_pool)
        if failed or args.check_only:
            return 1 if failed else 0

    if len(train_pool) < sizes["batch"]:
        p.error(f"{len(train_pool)} training samples, fewer than one batch of {sizes['batch']}")

    wanted = None
    if args.models:
        wanted = {m.strip() for m in args.models.split(",") if m.strip()}
        known = {k if o == "plain" else f"{k}-{o}" for k, o, _ in SUITE}
        if wanted - known:
            p.error(f"unknown models {sorted(wanted - known)} (expected {sorted(known)})")

    pool, test = train_pool.to(device), test_pool.to(device)
    results = []
    for i, (kind, objective, lr) in enumerate(SUITE):
        tag = kind if objective == "plain" else f"{kind}-{objective}"
        if wanted is not None and tag not in wanted:
            continue
        print(f"  {kind} {objective} ...", file=sys.stderr, flush=True)
        model, rate = train_rate(kind, objective, lr, sizes, pool, device, args, seed=i)
        ms = inference_ms(model, sizes, test, device, args)
        results.append({
            "model": kind, "objective": objective, "batch": sizes["batch"],
            "hidden": sizes["hidden"], "layers": sizes["layers"],
            "train_graphs_per_s": rate, "inference_ms": ms,
        })
    kernels = [] if args.no_kernels else matmul_kernels(
        [64, 128] if quick else [256, 512, 1024, 2048], device)

    report = {
        "engine": f"pytorch {torch.__version__.split('+')[0]}",
        "adapter": info,
        "machine": {"cpus": os.cpu_count() or 1, "os": os_name()},
        "method": "wall_clock",
        "ceilings": None,
        "kernels": kernels,
        "models": results,
    }
    print(f"\n{'model':<8} {'training':<8} {'batch':>6} {'hidden':>7} {'layers':>7} "
          f"{'train graphs/s':>16} {'infer ms':>10}", file=sys.stderr)
    for m in results:
        print(f"{m['model']:<8} {m['objective']:<8} {m['batch']:>6} {m['hidden']:>7} "
              f"{m['layers']:>7} {m['train_graphs_per_s']:>16.1f} {m['inference_ms']:>10.3f}",
              file=sys.stderr)
    for k in kernels:
        print(f"{k['name']:<16} {k['ms']:>10.3f} ms {k['gflops']:>8.1f} GFLOP/s", file=sys.stderr)
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
