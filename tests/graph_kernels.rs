//! The message-passing and EGNN geometry kernels against their f64 CPU twins, on a batch of
//! graphs of different sizes with isolated nodes, and their backward kernels against finite
//! differences of the CPU forward.
//!
//! Tolerances: values are in [-1, 1] and sums run over at most a node's degree (< 10) terms,
//! so f32 rounding stays below 1e-6; 1e-5 leaves room. Finite differences in f64 with step
//! 1e-6 are accurate to ~1e-8 on these smooth (piecewise linear or quadratic) maps, and the
//! GPU gradients are f32, so they are compared at 1e-4 relative.

mod common;

use common::{assert_close, engine, f32s, random, rounded};
use remul::kernels::edge_geometry::{self, Adjacency};
use remul::kernels::segment_sum::{self, source_csr};
use remul::kernels::{coord_update, gather, Cols};
use remul::{Engine, Tensor};

/// A batch of graphs, flattened, edges sorted by destination.
struct Graph {
    nodes: usize,
    src: Vec<u32>,
    dst: Vec<u32>,
    dst_offsets: Vec<u32>,
    src_offsets: Vec<u32>,
    src_perm: Vec<u32>,
}

impl Graph {
    /// Graphs of 1 (isolated), 5 (fully connected), 3 (a chain, so one node has no incoming
    /// edge) and 7 nodes (pseudo-random edges, duplicates allowed), one after another.
    fn batch() -> Self {
        let mut edges: Vec<(u32, u32)> = Vec::new();
        let mut first = 1u32;
        for i in 0..5 {
            for j in 0..5 {
                if i != j {
                    edges.push((first + j, first + i));
                }
            }
        }
        first += 5;
        edges.push((first, first + 1));
        edges.push((first + 1, first + 2));
        first += 3;
        let r = random(7, 40);
        for pair in r.chunks(2) {
            let s = ((pair[0] + 1.0) * 3.5) as u32 % 7;
            let d = ((pair[1] + 1.0) * 3.5) as u32 % 7;
            if s != d {
                edges.push((first + s, first + d));
            }
        }
        let nodes = first as usize + 7;
        edges.sort_by_key(|&(_, d)| d);
        let src: Vec<u32> = edges.iter().map(|e| e.0).collect();
        let dst: Vec<u32> = edges.iter().map(|e| e.1).collect();
        let mut dst_offsets = vec![0u32; nodes + 1];
        for &d in &dst {
            dst_offsets[d as usize + 1] += 1;
        }
        for i in 0..nodes {
            dst_offsets[i + 1] += dst_offsets[i];
        }
        let (src_offsets, src_perm) = source_csr(&src, nodes);
        Self {
            nodes,
            src,
            dst,
            dst_offsets,
            src_offsets,
            src_perm,
        }
    }

    fn edges(&self) -> usize {
        self.src.len()
    }
}

fn u32s(e: &Engine, v: &[u32]) -> Tensor {
    e.tensor_u32(v, &[v.len()]).unwrap()
}

fn upload(e: &Engine, v: &[f64], shape: &[usize]) -> Tensor {
    e.tensor(&f32s(v), shape).unwrap()
}

#[test]
fn source_csr_lists_every_edge_under_its_source() {
    let g = Graph::batch();
    for i in 0..g.nodes {
        let (a, b) = (g.src_offsets[i] as usize, g.src_offsets[i + 1] as usize);
        let mine: Vec<u32> = g.src_perm[a..b].to_vec();
        let want: Vec<u32> = (0..g.edges() as u32)
            .filter(|&k| g.src[k as usize] == i as u32)
            .collect();
        assert_eq!(mine, want, "edges out of node {i}");
    }
    assert_eq!(g.src_offsets[0], 0, "node 0 is isolated");
    assert_eq!(g.dst_offsets[1], 0, "node 0 receives nothing");
}

#[test]
fn gather_matches_cpu_with_and_without_index() {
    let e = engine();
    let g = Graph::batch();
    for &width in &[1usize, 3, 7, 65] {
        for indexed in [false, true] {
            for accumulate in [false, true] {
                let rows = if indexed { g.edges() } else { g.nodes };
                let (src_cols, dst_cols) = (width + 2, width + 5);
                let src = rounded(&random(1, g.nodes * src_cols));
                let dst0 = rounded(&random(2, rows * dst_cols));
                let ts = upload(e, &src, &[g.nodes, src_cols]);
                let td = upload(e, &dst0, &[rows, dst_cols]);
                let index = u32s(e, &g.src);
                let d = gather::plan(
                    e,
                    Cols::new(&ts, 1, width),
                    indexed.then_some(&index),
                    Cols::new(&td, 4, width),
                    accumulate,
                )
                .unwrap();
                e.run(&[&d]).unwrap();
                let mut want = dst0.clone();
                let ix = indexed.then_some(g.src.as_slice());
                gather::cpu(
                    &src,
                    (src_cols, 1),
                    ix,
                    &mut want,
                    (dst_cols, 4),
                    width,
                    accumulate,
                );
                let what = format!("gather width {width} indexed {indexed} acc {accumulate}");
                assert_close(&what, &e.read(&td).unwrap(), &want, 1e-6, 1e-6);
            }
        }
    }
}

#[test]
fn segment_sum_and_mean_match_cpu_and_give_isolated_nodes_zero() {
    let e = engine();
    let g = Graph::batch();
    for &width in &[1usize, 4, 65] {
        for by_source in [false, true] {
            for (mean, accumulate) in [(false, false), (true, false), (false, true)] {
                let src = rounded(&random(3, g.edges() * width));
                let dst0 = rounded(&random(4, g.nodes * (width + 1)));
                let ts = upload(e, &src, &[g.edges(), width]);
                let td = upload(e, &dst0, &[g.nodes, width + 1]);
                let (offsets, perm) = if by_source {
                    (&g.src_offsets, Some(&g.src_perm))
                } else {
                    (&g.dst_offsets, None)
                };
                let to = u32s(e, offsets);
                let tp = perm.map(|p| u32s(e, p));
                let d = segment_sum::plan(
                    e,
                    Cols::all(&ts),
                    &to,
                    tp.as_ref(),
                    Cols::new(&td, 1, width),
                    mean,
                    accumulate,
                )
                .unwrap();
                e.run(&[&d]).unwrap();
                let mut want = dst0.clone();
                segment_sum::cpu(
                    &src,
                    (width, 0),
                    offsets,
                    perm.map(|p| p.as_slice()),
                    &mut want,
                    (width + 1, 1),
                    width,
                    (mean, accumulate),
                );
                let got = e.read(&td).unwrap();
                let what = format!("segment sum width {width} by source {by_source} mean {mean}");
                assert_close(&what, &got, &want, 1e-5, 1e-5);
                if !accumulate && !by_source {
                    assert!(got[1..=width].iter().all(|&v| v == 0.0), "{what}: node 0");
                }
            }
        }
    }
}

#[test]
fn gather_backward_is_the_segment_sum_over_sources() {
    // L = sum_k r_k . h[src_k]: dL/dh_i = sum of r over edges leaving i, by finite differences.
    let e = engine();
    let g = Graph::batch();
    let width = 3;
    let h = random(5, g.nodes * width);
    let r = rounded(&random(6, g.edges() * width));
    let objective = |h: &[f64]| -> f64 {
        let mut out = vec![0.0; g.edges() * width];
        gather::cpu(
            h,
            (width, 0),
            Some(&g.src),
            &mut out,
            (width, 0),
            width,
            false,
        );
        out.iter().zip(&r).map(|(a, b)| a * b).sum()
    };
    let tr = upload(e, &r, &[g.edges(), width]);
    let dh = e.empty(&[g.nodes, width]);
    let (to, tp) = (u32s(e, &g.src_offsets), u32s(e, &g.src_perm));
    let d = segment_sum::plan(
        e,
        Cols::all(&tr),
        &to,
        Some(&tp),
        Cols::all(&dh),
        false,
        false,
    )
    .unwrap();
    e.run(&[&d]).unwrap();
    let fd = finite_differences(&h, objective);
    assert_close("gather backward", &e.read(&dh).unwrap(), &fd, 1e-6, 1e-4);
}

#[test]
fn edge_geometry_matches_cpu() {
    let e = engine();
    let g = Graph::batch();
    let x = rounded(&random(8, g.nodes * 3));
    let tx = upload(e, &x, &[g.nodes, 3]);
    let diff = e.empty(&[g.edges(), 3]);
    let sq = e.zeros(&[g.edges(), 3]);
    let d = edge_geometry::plan(
        e,
        &tx,
        &u32s(e, &g.src),
        &u32s(e, &g.dst),
        &diff,
        Cols::new(&sq, 1, 1),
    )
    .unwrap();
    e.run(&[&d]).unwrap();
    let (want_diff, want_sq) = edge_geometry::cpu(&x, &g.src, &g.dst);
    assert_close("diff", &e.read(&diff).unwrap(), &want_diff, 1e-6, 1e-6);
    let got: Vec<f32> = e.read(&sq).unwrap().chunks(3).map(|r| r[1]).collect();
    assert_close("squared distance", &got, &want_sq, 1e-5, 1e-5);
}

#[test]
fn edge_geometry_backward_matches_finite_differences() {
    // L = sum_k (a_k . diff_k + b_k |diff_k|^2), a function of the node positions.
    let e = engine();
    let g = Graph::batch();
    let x = rounded(&random(9, g.nodes * 3));
    let a = rounded(&random(10, g.edges() * 3));
    let b = rounded(&random(11, g.edges()));
    let objective = |x: &[f64]| -> f64 {
        let (diff, sq) = edge_geometry::cpu(x, &g.src, &g.dst);
        let lin: f64 = diff.iter().zip(&a).map(|(d, a)| d * a).sum();
        lin + sq.iter().zip(&b).map(|(s, b)| s * b).sum::<f64>()
    };
    let fd = finite_differences(&x, objective);
    let (diff, _) = edge_geometry::cpu(&x, &g.src, &g.dst);
    let adj = (
        u32s(e, &g.dst_offsets),
        u32s(e, &g.src_offsets),
        u32s(e, &g.src_perm),
    );
    let graph = Adjacency {
        dst_offsets: &adj.0,
        src_offsets: &adj.1,
        src_perm: &adj.2,
    };
    let t_diff = upload(e, &diff, &[g.edges(), 3]);
    let t_a = upload(e, &a, &[g.edges(), 3]);
    let t_b = upload(e, &b, &[g.edges(), 1]);
    for accumulate in [false, true] {
        let start = rounded(&random(12, g.nodes * 3));
        let dx = upload(e, &start, &[g.nodes, 3]);
        let d = edge_geometry::plan_backward(
            e,
            &t_diff,
            Some(&t_a),
            Cols::all(&t_b),
            graph,
            &dx,
            accumulate,
        )
        .unwrap();
        e.run(&[&d]).unwrap();
        let want: Vec<f64> = if accumulate {
            fd.iter().zip(&start).map(|(f, s)| f + s).collect()
        } else {
            fd.clone()
        };
        assert_close(
            "edge geometry backward",
            &e.read(&dx).unwrap(),
            &want,
            1e-5,
            1e-4,
        );
        let cpu = edge_geometry::cpu_backward(&diff, Some(&a), &b, &g.src, &g.dst, g.nodes);
        assert_close("edge geometry cpu backward", &f32s(&cpu), &fd, 1e-6, 1e-6);
    }
}

/// Inputs of one coordinate update: x, diff (from x), phi_x per edge, v, phi_v per node.
/// `scale` multiplies phi_x so that some edges hit the clamp.
fn coord_inputs(g: &Graph, scale: f64) -> [Vec<f64>; 5] {
    let x = rounded(&random(13, g.nodes * 3));
    let (diff, _) = edge_geometry::cpu(&x, &g.src, &g.dst);
    let phi_x: Vec<f64> = rounded(
        &random(14, g.edges())
            .iter()
            .map(|v| v * scale)
            .collect::<Vec<_>>(),
    );
    let v = rounded(&random(15, g.nodes * 3));
    let phi_v = rounded(&random(16, g.nodes));
    [x, rounded(&diff), phi_x, v, phi_v]
}

#[test]
fn coord_update_matches_cpu_including_the_clamp() {
    let e = engine();
    let g = Graph::batch();
    for scale in [1.0, 300.0] {
        let [x, diff, phi_x, v, phi_v] = coord_inputs(&g, scale);
        let tx = upload(e, &x, &[g.nodes, 3]);
        let tdiff = upload(e, &diff, &[g.edges(), 3]);
        // phi_x and phi_v sit in the second column of wider matrices.
        let wide = |v: &[f64]| -> Vec<f64> { v.iter().flat_map(|&a| [0.5, a]).collect() };
        let tphx = upload(e, &wide(&phi_x), &[g.edges(), 2]);
        let tphv = upload(e, &wide(&phi_v), &[g.nodes, 2]);
        let tv = upload(e, &v, &[g.nodes, 3]);
        let out = e.empty(&[g.nodes, 3]);
        let to = u32s(e, &g.dst_offsets);
        let d = coord_update::plan(
            e,
            &tx,
            &tdiff,
            Cols::new(&tphx, 1, 1),
            &to,
            &tv,
            Cols::new(&tphv, 1, 1),
            &out,
        )
        .unwrap();
        e.run(&[&d]).unwrap();
        let want = coord_update::cpu(&x, &diff, &phi_x, &g.dst_offsets, &v, &phi_v);
        assert_close(
            &format!("coord update scale {scale}"),
            &e.read(&out).unwrap(),
            &want,
            1e-4,
            1e-5,
        );
        if scale > 1.0 {
            let clamped = (0..g.edges())
                .any(|k| (0..3).any(|c| (diff[3 * k + c] * phi_x[k]).abs() > coord_update::CLAMP));
            assert!(clamped, "the large scale must exercise the clamp");
        }
    }
}

#[test]
fn coord_update_backward_matches_finite_differences() {
    // L = sum r . x_out over (diff, phi_x, phi_v) jointly, away from the clamp's kinks.
    let e = engine();
    let g = Graph::batch();
    for scale in [1.0, 300.0] {
        let [x, diff, phi_x, v, phi_v] = coord_inputs(&g, scale);
        let r = rounded(&random(17, g.nodes * 3));
        let (ne, nn) = (g.edges(), g.nodes);
        let objective = |p: &[f64]| -> f64 {
            let out = coord_update::cpu(
                &x,
                &p[..3 * ne],
                &p[3 * ne..4 * ne],
                &g.dst_offsets,
                &v,
                &p[4 * ne..],
            );
            out.iter().zip(&r).map(|(a, b)| a * b).sum()
        };
        let joint: Vec<f64> = [diff.clone(), phi_x.clone(), phi_v.clone()].concat();
        let fd = finite_differences(&joint, objective);

        let tr = upload(e, &r, &[nn, 3]);
        let tdiff = upload(e, &diff, &[ne, 3]);
        let tphx = upload(e, &phi_x, &[ne, 1]);
        let tv = upload(e, &v, &[nn, 3]);
        let to = u32s(e, &g.dst_offsets);
        let (d_diff, d_phx, d_phv) = (e.empty(&[ne, 3]), e.empty(&[ne, 1]), e.empty(&[nn, 1]));
        let d = coord_update::plan_backward(
            e,
            &tr,
            &tdiff,
            Cols::all(&tphx),
            &to,
            &tv,
            &d_diff,
            Cols::all(&d_phx),
            Cols::all(&d_phv),
        )
        .unwrap();
        e.run(&[&d]).unwrap();
        let what = format!("coord update backward scale {scale}");
        let got = [
            e.read(&d_diff).unwrap(),
            e.read(&d_phx).unwrap(),
            e.read(&d_phv).unwrap(),
        ]
        .concat();
        assert_close(&what, &got, &fd, 1e-4, 1e-4);
        let (a, b, c) = coord_update::cpu_backward(&r, &diff, &phi_x, &g.dst_offsets, &v);
        assert_close(
            &format!("{what} (cpu)"),
            &f32s(&[a, b, c].concat()),
            &fd,
            1e-5,
            1e-5,
        );
    }
}

#[test]
fn graph_kernels_reject_mismatched_shapes() {
    let e = engine();
    let a = e.empty(&[4, 3]);
    let b = e.empty(&[5, 3]);
    let err = gather::plan(e, Cols::all(&a), None, Cols::all(&b), false).unwrap_err();
    assert!(err.to_string().contains("gather input"), "{err}");
    let err = gather::plan(e, Cols::new(&a, 2, 2), None, Cols::new(&a, 0, 2), false);
    assert!(err.unwrap_err().to_string().contains("columns 2..4"));
    let offsets = e.tensor_u32(&[0, 1, 2], &[3]).unwrap();
    let err = segment_sum::plan(
        e,
        Cols::all(&a),
        &offsets,
        None,
        Cols::all(&b),
        false,
        false,
    )
    .unwrap_err();
    assert!(err.to_string().contains("offsets"), "{err}");
}

/// Central differences of `f` at `x` in f64, step 1e-6.
fn finite_differences(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let h = 1e-6;
    let mut p = x.to_vec();
    (0..x.len())
        .map(|i| {
            p[i] = x[i] + h;
            let up = f(&p);
            p[i] = x[i] - h;
            let down = f(&p);
            p[i] = x[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}
