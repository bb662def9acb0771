//! REMUL's losses and weights: the loss kernel against its f64 CPU twin, its gradients against
//! finite differences (alone and through a GNN over a doubled batch), and GradNorm's weight
//! update against its CPU twin and its documented properties.
//!
//! Inputs are rounded through f32 before the CPU twins see them, so the only differences left
//! are the GPU's f32 arithmetic.

mod common;

use common::{assert_close, engine, f32s, host_params, param_differences, random, rounded};
use remul::data::{GraphBatch, GraphSet, GraphView};
use remul::kernels::bias_act::Activation;
use remul::kernels::gradnorm::{self, GradNorm, GradNormConfig};
use remul::kernels::remul_loss::{self, Form, LossInputs};
use remul::kernels::rotate::{self, cpu_sample, Mode, Rows, TransformConfig};
use remul::models::{Gnn, GraphInputs, Model, ModelConfig, ModelKind};
use remul::{Engine, Tensor};

/// Node counts: one, below a workgroup of the gradient pass (64), its overhang, above the 256
/// lanes of the loss reduction, and more than two rows per reduction lane.
const NODE_COUNTS: &[usize] = &[1, 7, 65, 257, 600];

/// The loss weights `[alpha, beta]` of the tests.
const WEIGHTS: [f64; 2] = [0.7, 1.3];

/// What `plan_grads` fills before it runs, so that an element it skips is caught.
const POISON: f32 = 12345.0;

/// A loss problem on the host: everything `remul_loss::cpu` takes, already rounded to f32.
struct Problem {
    nodes: usize,
    graphs: usize,
    form: Form,
    output: Vec<f64>,
    targets: Vec<f64>,
    transforms: Vec<f64>,
    /// Graph of every row of the (doubled) batch: copy 1 continues after copy 0's graphs.
    node_graph: Vec<u32>,
}

impl Problem {
    /// Random outputs, targets (copy 1's transformed from copy 0's) and Haar rotations with
    /// translations, nodes scattered over graphs out of order.
    fn new(nodes: usize, form: Form, seed: u64) -> Self {
        let copies = if form == Form::None { 1 } else { 2 };
        let graphs = nodes.div_ceil(9);
        let copy0: Vec<u32> = (0..nodes).map(|i| ((i * 7919) % graphs) as u32).collect();
        let mut node_graph = copy0.clone();
        if copies == 2 {
            node_graph.extend(copy0.iter().map(|&g| g + graphs as u32));
        }
        let transforms = rounded(&cpu_sample(&TransformConfig::default(), seed, 3, graphs));
        let output = rounded(&random(seed + 1, copies * nodes * 3));
        let mut targets = rounded(&random(seed + 2, copies * nodes * 3));
        if copies == 2 {
            let rows = Rows {
                count: nodes,
                graph_first: 0,
                in_first: 0,
                out_first: nodes,
            };
            let y0 = targets.clone();
            rotate::cpu_apply(&transforms, &copy0, &y0, rows, Mode::Point, &mut targets);
            targets = rounded(&targets);
        }
        Self {
            nodes,
            graphs,
            form,
            output,
            targets,
            transforms,
            node_graph,
        }
    }

    /// `remul_loss::cpu` at `output`.
    fn cpu(&self, output: &[f64]) -> ([f64; 2], Vec<f64>, Vec<f64>) {
        remul_loss::cpu(
            output,
            &self.targets,
            &self.transforms,
            &self.node_graph[..self.nodes],
            self.nodes,
            self.form,
        )
    }
}

/// The problem's tensors on the GPU.
struct Uploaded {
    output: Tensor,
    targets: Tensor,
    transforms: Tensor,
    node_graph: Tensor,
}

impl Uploaded {
    fn new(e: &Engine, p: &Problem) -> Self {
        let rows = p.output.len() / 3;
        Self {
            output: e.tensor(&f32s(&p.output), &[rows, 3]).unwrap(),
            targets: e.tensor(&f32s(&p.targets), &[rows, 3]).unwrap(),
            transforms: e.tensor(&f32s(&p.transforms), &[p.graphs, 12]).unwrap(),
            node_graph: e.tensor_u32(&p.node_graph, &[rows]).unwrap(),
        }
    }

    fn inputs(&self, p: &Problem) -> LossInputs<'_> {
        LossInputs {
            output: &self.output,
            targets: &self.targets,
            transforms: &self.transforms,
            node_graph: &self.node_graph,
            nodes: p.nodes,
            form: p.form,
        }
    }
}

/// What the two passes wrote: `(losses, d_output, d_task, d_equi)`.
type GpuLoss = (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>);

/// Runs both passes of the loss kernel on `p` with `weights`.
fn gpu_loss(e: &Engine, p: &Problem, weights: [f64; 2]) -> GpuLoss {
    let up = Uploaded::new(e, p);
    let shape = up.output.shape().to_vec();
    let poisoned = || {
        let t = e.empty(&shape);
        e.write(&t, &vec![POISON; t.len()]).unwrap();
        t
    };
    let (d_output, d_task, d_equi) = (poisoned(), poisoned(), poisoned());
    let losses = e.tensor(&[POISON; 2], &[2]).unwrap();
    let w = e.tensor(&f32s(&weights), &[2]).unwrap();
    let a = remul_loss::plan_losses(e, up.inputs(p), &losses).unwrap();
    let b = remul_loss::plan_grads(e, up.inputs(p), &w, &d_output, &d_task, &d_equi).unwrap();
    e.run(&[&a, &b]).unwrap();
    let read = |t: &Tensor| e.read(t).unwrap();
    (read(&losses), read(&d_output), read(&d_task), read(&d_equi))
}

fn forms() -> [Form; 3] {
    [Form::None, Form::Label, Form::Consistency]
}

#[test]
fn remul_losses_and_gradients_match_the_cpu_twin() {
    // Outputs and targets lie in [-1, 1] and translations are a few units, so residuals are
    // below ~10 and squared residuals below ~100. The loss is a mean of f32 squares summed
    // over at most 600 * 3 terms in a tree: relative error ~1e-6, so 1e-5 relative (plus 1e-6
    // for the all-zero L_equi of form None) has margin. A gradient element is
    // scale = 2 / (3 nodes) times a residual whose terms (a 3-term rotation, t, the output) are
    // below ~5, computed to a few ulp of those: 5e-6 * scale absolute plus 1e-5 relative
    // covers it, while a wrong or missing term errs by ~scale.
    let e = engine();
    let w = rounded(&WEIGHTS);
    for form in forms() {
        for (k, &nodes) in NODE_COUNTS.iter().enumerate() {
            let p = Problem::new(nodes, form, 100 + k as u64);
            let (losses, d_output, d_task, d_equi) = gpu_loss(e, &p, [w[0], w[1]]);
            let (want_losses, want_task, want_equi) = p.cpu(&p.output);
            let what = |part: &str| format!("{form:?} nodes={nodes}: {part}");
            assert_close(&what("losses"), &losses, &want_losses, 1e-6, 1e-5);
            assert!(
                form == Form::None || want_losses[1] > 0.1,
                "{}: random outputs should give a sizeable equivariance loss",
                what("L_equi")
            );

            let scale = 2.0 / (3 * nodes) as f64;
            let atol = 5e-6 * scale;
            assert_close(&what("d_task"), &d_task, &want_task, atol, 1e-5);
            assert_close(&what("d_equi"), &d_equi, &want_equi, atol, 1e-5);
            let want_output: Vec<f64> = want_task
                .iter()
                .zip(&want_equi)
                .map(|(t, q)| w[0] * t + w[1] * q)
                .collect();
            assert_close(&what("d_output"), &d_output, &want_output, atol, 1e-5);

            // d_output is the weighted sum of the GPU's own two gradients, to f32 rounding.
            let combined: Vec<f64> = d_task
                .iter()
                .zip(&d_equi)
                .map(|(&t, &q)| w[0] * f64::from(t) + w[1] * f64::from(q))
                .collect();
            // Rounding of the two products and their sum: a few ulp of terms below ~10 scale.
            assert_close(
                &what("d_output vs w0 d_task + w1 d_equi"),
                &d_output,
                &combined,
                2e-6 * scale,
                1e-6,
            );
        }
    }
}

#[test]
fn remul_loss_gradients_match_finite_differences_of_the_losses() {
    // Both losses are quadratic in the outputs, so a central difference is exact up to the
    // f64 rounding of the loss values (~1e-16 / STEP); 1e-9 leaves a wide margin for the CPU
    // twin's analytic gradients. The GPU's are f32: 5e-6 of the gradient scale, as above.
    const STEP: f64 = 1e-3;
    let e = engine();
    for form in [Form::Label, Form::Consistency] {
        for nodes in [7, 65] {
            let p = Problem::new(nodes, form, 200 + nodes as u64);
            let (_, _, gpu_task, gpu_equi) = gpu_loss(e, &p, WEIGHTS);
            let (_, cpu_task, cpu_equi) = p.cpu(&p.output);
            let mut fd = [vec![0.0; p.output.len()], vec![0.0; p.output.len()]];
            for j in 0..p.output.len() {
                let mut plus = p.output.clone();
                plus[j] += STEP;
                let mut minus = p.output.clone();
                minus[j] -= STEP;
                let (lp, lm) = (p.cpu(&plus).0, p.cpu(&minus).0);
                for l in 0..2 {
                    fd[l][j] = (lp[l] - lm[l]) / (2.0 * STEP);
                }
            }
            let what = |part: &str| format!("{form:?} nodes={nodes}: {part}");
            let close64 = |part: &str, got: &[f64], want: &[f64]| {
                for (j, (g, w)) in got.iter().zip(want).enumerate() {
                    assert!(
                        (g - w).abs() < 1e-9,
                        "{}: element {j} is {g}, expected {w}",
                        what(part)
                    );
                }
            };
            close64("cpu d_task", &cpu_task, &fd[0]);
            close64("cpu d_equi", &cpu_equi, &fd[1]);
            let atol = 5e-6 * 2.0 / (3 * nodes) as f64;
            assert_close(&what("gpu d_task"), &gpu_task, &fd[0], atol, 1e-5);
            assert_close(&what("gpu d_equi"), &gpu_equi, &fd[1], atol, 1e-5);

            // The task loss only sees copy 0; the equivariance loss reaches copy 0 only through
            // R f(x) + t, i.e. only in the consistency form.
            let rows0 = 0..nodes * 3;
            let rows1 = nodes * 3..2 * nodes * 3;
            assert!(
                fd[0][rows1.clone()].iter().all(|&g| g == 0.0),
                "{}",
                what("task on copy 1")
            );
            let copy0_equi = fd[1][rows0].iter().map(|g| g.abs()).fold(0.0, f64::max);
            let copy1_equi = fd[1][rows1].iter().map(|g| g.abs()).fold(0.0, f64::max);
            assert!(
                copy1_equi > 0.0,
                "{}",
                what("equivariance gradient on copy 1")
            );
            match form {
                Form::Consistency => assert!(
                    copy0_equi > 0.1 * copy1_equi,
                    "{}: {copy0_equi} against {copy1_equi} on copy 1",
                    what("consistency gradient on copy 0 through R f(x)")
                ),
                _ => assert_eq!(copy0_equi, 0.0, "{}", what("label gradient on copy 0")),
            }
            let gpu_copy0 = gpu_equi[..nodes * 3].iter().any(|&g| g != 0.0);
            assert_eq!(
                gpu_copy0,
                form == Form::Consistency,
                "{}",
                what("gpu d_equi on copy 0")
            );
        }
    }
}

/// Graphs of 1 (isolated node), 3 (a chain) and 5 nodes (fully connected), as in the model
/// tests, with `|v|` node scalars and `q_i q_j` edge scalars.
fn batch(seed: u64) -> GraphBatch {
    let mut set = GraphSet::new(1, 1);
    for (g, n) in [1usize, 3, 5].into_iter().enumerate() {
        let s = seed + 10 * g as u64;
        let x = random(s, 3 * n);
        let v: Vec<f64> = random(s + 1, 3 * n).iter().map(|a| 0.5 * a).collect();
        let speed: Vec<f64> = v
            .chunks(3)
            .map(|c| c.iter().map(|a| a * a).sum::<f64>().sqrt())
            .collect();
        let q: Vec<f64> = random(s + 2, n).iter().map(|a| a.signum()).collect();
        let mut edges: Vec<(u32, u32)> = Vec::new();
        if n == 3 {
            edges.extend([(0, 1), (1, 2)]);
        } else {
            for d in 0..n as u32 {
                edges.extend((0..n as u32).filter(|&s| s != d).map(|s| (s, d)));
            }
        }
        let src: Vec<u32> = edges.iter().map(|e| e.0).collect();
        let dst: Vec<u32> = edges.iter().map(|e| e.1).collect();
        let qq: Vec<f64> = edges
            .iter()
            .map(|&(s, d)| q[s as usize] * q[d as usize])
            .collect();
        let y = random(s + 3, 3 * n);
        set.push(&GraphView {
            positions: &x,
            velocities: &v,
            node_scalars: &speed,
            targets: &y,
            src: &src,
            dst: &dst,
            edge_scalars: &qq,
        })
        .unwrap();
    }
    let mut b = GraphBatch::default();
    b.clear(1, 1);
    for i in 0..set.len() {
        b.push(i, &set.get(i).unwrap()).unwrap();
    }
    b
}

/// `rows [_, 3]` of f32 values transformed per graph, as points (`R x + t`) or vectors (`R v`).
fn transformed(rows: &[f32], transforms: &[f64], node_graph: &[u32], mode: Mode) -> Vec<f32> {
    let input: Vec<f64> = rows.iter().map(|&x| f64::from(x)).collect();
    let mut out = vec![0.0; input.len()];
    let count = input.len() / 3;
    let all = Rows {
        count,
        graph_first: 0,
        in_first: 0,
        out_first: 0,
    };
    rotate::cpu_apply(transforms, node_graph, &input, all, mode, &mut out);
    f32s(&out)
}

/// `a` followed by `b` as one batch (b's graphs, nodes and edges renumbered after a's).
fn stacked(a: &GraphBatch, b: &GraphBatch) -> GraphBatch {
    let (g, n, e) = (
        a.num_graphs() as u32,
        a.num_nodes() as u32,
        a.num_edges() as u32,
    );
    let cat = |x: &[f32], y: &[f32]| [x, y].concat();
    let shifted = |x: &[u32], by: u32| x.iter().map(|&i| i + by).collect::<Vec<_>>();
    GraphBatch {
        samples: [a.samples.as_slice(), &b.samples].concat(),
        graph_offsets: [a.graph_offsets.clone(), shifted(&b.graph_offsets[1..], n)].concat(),
        node_graph: [a.node_graph.clone(), shifted(&b.node_graph, g)].concat(),
        positions: cat(&a.positions, &b.positions),
        velocities: cat(&a.velocities, &b.velocities),
        node_scalar_dim: a.node_scalar_dim,
        node_scalars: cat(&a.node_scalars, &b.node_scalars),
        targets: cat(&a.targets, &b.targets),
        dst_offsets: [a.dst_offsets.clone(), shifted(&b.dst_offsets[1..], e)].concat(),
        src: [a.src.clone(), shifted(&b.src, n)].concat(),
        dst: [a.dst.clone(), shifted(&b.dst, n)].concat(),
        edge_scalar_dim: a.edge_scalar_dim,
        edge_scalars: cat(&a.edge_scalars, &b.edge_scalars),
    }
}

#[test]
fn remul_objective_gradients_through_a_gnn_match_finite_differences() {
    // Objective alpha * L_task + beta * L_equi of a GNN (hidden 5, 2 layers) over a doubled
    // batch whose copy 1 is copy 0 moved by a known (R, t) per graph. Every parameter entry is
    // compared with a central difference in f64 around the CPU twin. The GPU runs in f32
    // through ~20 operations a path; the gradients here are ~1e-3..1, so 2e-5 + 2e-3 |g|
    // separates right from wrong gradients (a missing term is of the size of g itself).
    const H: f64 = 1e-6;
    let e = engine();
    let b = batch(7);
    let n = b.num_nodes();
    let transforms = rounded(&cpu_sample(
        &TransformConfig::default(),
        11,
        0,
        b.num_graphs(),
    ));
    let mut moved = b.clone();
    moved.positions = transformed(&b.positions, &transforms, &b.node_graph, Mode::Point);
    moved.velocities = transformed(&b.velocities, &transforms, &b.node_graph, Mode::Vector);
    moved.targets = transformed(&b.targets, &transforms, &b.node_graph, Mode::Point);
    let doubled = stacked(&b, &moved);
    let targets: Vec<f64> = doubled.targets.iter().map(|&y| f64::from(y)).collect();
    let config = ModelConfig {
        kind: ModelKind::Gnn,
        hidden: 5,
        layers: 2,
        activation: Activation::Silu,
    };
    let w = rounded(&WEIGHTS);

    for form in [Form::Label, Form::Consistency] {
        // A fresh model per form: its parameter gradients start at zero.
        let model = Gnn::new(e, &config, 1, 3).unwrap();
        let inputs = GraphInputs::new(e, &b, 2).unwrap();
        inputs.write_features(e, &moved, 1).unwrap();
        let plan = model.plan(e, &inputs).unwrap();
        let tf = e.tensor(&f32s(&transforms), &[b.num_graphs(), 12]).unwrap();
        let weights = e.tensor(&f32s(&w), &[2]).unwrap();
        let d_task = e.empty(plan.output.shape());
        let d_equi = e.empty(plan.output.shape());
        let loss_inputs = LossInputs {
            output: &plan.output,
            targets: &inputs.targets,
            transforms: &tf,
            node_graph: &inputs.node_graph,
            nodes: n,
            form,
        };
        let grads =
            remul_loss::plan_grads(e, loss_inputs, &weights, &plan.d_output, &d_task, &d_equi)
                .unwrap();
        let mut dispatches: Vec<_> = plan.forward.iter().collect();
        dispatches.push(&grads);
        dispatches.extend(&plan.backward);
        e.run(&dispatches).unwrap();

        let theta = host_params(e, model.params());
        let output = e.read(&plan.output).unwrap();
        let want_output = model.cpu_forward(&theta, &doubled);
        // The forward is checked at this tolerance in the model tests.
        assert_close(
            &format!("{form:?} forward over the doubled batch"),
            &output,
            &want_output,
            1e-4,
            1e-4,
        );

        let objective = |theta: &[Vec<f64>]| -> f64 {
            let out = model.cpu_forward(theta, &doubled);
            let (l, _, _) = remul_loss::cpu(&out, &targets, &transforms, &b.node_graph, n, form);
            w[0] * l[0] + w[1] * l[1]
        };
        let mut nonzero = 0;
        for (p, grad) in model.params().read_grads(e).unwrap().iter().enumerate() {
            let want = param_differences(&theta, p, H, objective);
            nonzero += want.iter().filter(|w| w.abs() > 1e-6).count();
            let what = format!("{form:?} gradient of {}", grad.name);
            assert_close(&what, &grad.data, &want, 2e-5, 2e-3);
        }
        assert!(
            nonzero > 100,
            "{form:?}: only {nonzero} gradient entries are non-zero"
        );
    }
}

/// A GradNorm setting with room to move in a few steps.
fn gradnorm_config() -> GradNormConfig {
    GradNormConfig {
        gamma: 1.5,
        lr: 0.05,
        total: 2.0,
        min_weight: 0.05,
    }
}

/// GradNorm on the GPU with its input tensors, planned once and fed new values each step.
struct GpuGradNorm {
    gn: GradNorm,
    g_task: Tensor,
    g_equi: Tensor,
    losses: Tensor,
    dispatch: remul::gpu::Dispatch,
}

impl GpuGradNorm {
    fn new(e: &Engine, len: usize, config: GradNormConfig) -> Self {
        let gn = GradNorm::new(e, len, config).unwrap();
        let (g_task, g_equi, losses) = (e.zeros(&[len]), e.zeros(&[len]), e.zeros(&[2]));
        let dispatch = gn.plan(e, &g_task, &g_equi, &losses).unwrap();
        Self {
            gn,
            g_task,
            g_equi,
            losses,
            dispatch,
        }
    }

    /// One update; returns the weights and the state after it.
    fn step(
        &self,
        e: &Engine,
        g_task: &[f64],
        g_equi: &[f64],
        losses: [f64; 2],
    ) -> (Vec<f32>, Vec<f32>) {
        e.write(&self.g_task, &f32s(g_task)).unwrap();
        e.write(&self.g_equi, &f32s(g_equi)).unwrap();
        e.write(&self.losses, &f32s(&losses)).unwrap();
        e.run(&[&self.dispatch]).unwrap();
        (
            e.read(self.gn.weights()).unwrap(),
            e.read(self.gn.state()).unwrap(),
        )
    }
}

/// Asserts the weights are at least `min_weight` and sum to `total`.
fn assert_weights_valid(what: &str, w: &[f32], c: &GradNormConfig) {
    // The sum is rescaled to `total` in f32: a few ulp of 2.
    let sum = f64::from(w[0]) + f64::from(w[1]);
    assert!(
        (sum - f64::from(c.total)).abs() < 1e-5,
        "{what}: weights {w:?} sum to {sum}"
    );
    assert!(
        w.iter().all(|&x| x >= c.min_weight),
        "{what}: weights {w:?} fall below min_weight {}",
        c.min_weight
    );
}

#[test]
fn gradnorm_matches_its_cpu_twin_over_consecutive_steps() {
    // Norms of 300 random entries (more than the 256 reduction lanes) and the update are f32:
    // ~1e-6 relative a step; over 8 steps the weights drift from the f64 twin by well under
    // 1e-5. The random inputs keep every G_i away from its goal, so the sign of each step is
    // the same in f32 and f64.
    let e = engine();
    let len = 300;
    let c = gradnorm_config();
    let gpu = GpuGradNorm::new(e, len, c);
    let mut weights = [1.0, 1.0];
    let mut state = [0.0; 4];
    for step in 0..8u64 {
        let g_task = rounded(&random(300 + step, len));
        let g_equi: Vec<f64> = rounded(
            &random(400 + step, len)
                .iter()
                .map(|g| 0.3 * g)
                .collect::<Vec<_>>(),
        );
        let losses = [
            rounded(&[2.0 * 0.8f64.powi(step as i32)])[0],
            rounded(&[0.5 * 0.95f64.powi(step as i32)])[0],
        ];
        let (got_w, got_state) = gpu.step(e, &g_task, &g_equi, losses);
        gradnorm::cpu_step(&c, &g_task, &g_equi, losses, &mut weights, &mut state);
        let what = format!("step {step}");
        assert_close(&format!("{what}: weights"), &got_w, &weights, 1e-5, 1e-5);
        assert_close(&format!("{what}: state"), &got_state, &state, 1e-6, 1e-6);
        assert_weights_valid(&what, &got_w, &c);
    }
    assert_eq!(state[3], 8.0, "the state counts updates");
}

#[test]
fn gradnorm_gives_the_slower_training_loss_the_larger_weight() {
    // The task loss falls fast (L/L(0) = 0.6^k), the equivariance loss slowly (0.95^k): its
    // training rate is higher, so GradNorm raises its weight, although its gradient is the
    // larger one (matching gradient norms alone would lower its weight).
    let e = engine();
    let len = 64;
    let c = gradnorm_config();
    let gpu = GpuGradNorm::new(e, len, c);
    let g_task = rounded(&random(500, len));
    let g_equi = rounded(&g_task.iter().map(|g| 1.25 * g).collect::<Vec<_>>());
    let mut w = vec![1.0f32, 1.0];
    for step in 0..10 {
        let losses = [0.6f64.powi(step), 0.95f64.powi(step)];
        w = gpu.step(e, &g_task, &g_equi, losses).0;
        assert_weights_valid(&format!("step {step}"), &w, &c);
    }
    assert!(
        w[1] > w[0] + 0.1,
        "weights {w:?}: the slower equivariance loss should lead"
    );
}

#[test]
fn gradnorm_weights_never_fall_below_min_weight() {
    // A large learning rate drives the task weight onto its floor while the equivariance
    // weight jumps up; rescaling the pair to `total` must not push the floored one below it.
    let e = engine();
    let len = 16;
    let c = GradNormConfig {
        gamma: 1.0,
        lr: 0.1,
        total: 2.0,
        min_weight: 0.3,
    };
    let gpu = GpuGradNorm::new(e, len, c);
    let mut weights = [1.0, 1.0];
    let mut state = [0.0; 4];
    // |g_task| = 10 and |g_equi| = 5, so that no step starts from a tie (where f32 and f64
    // could pick different signs). Step 0 floors w_task and rescales it to 1/3; step 1 floors
    // it again while w_equi grows by lr |g_equi|, so the pair sums to more than `total`.
    let g_task = vec![2.5; len];
    let g_equi: Vec<f64> = (0..len)
        .map(|i| if i % 2 == 0 { 1.25 } else { -1.25 })
        .collect();
    for (step, losses) in [[1.0, 1.0], [0.2, 1.0], [0.1, 1.0]].into_iter().enumerate() {
        let (got, _) = gpu.step(e, &g_task, &g_equi, losses);
        gradnorm::cpu_step(&c, &g_task, &g_equi, losses, &mut weights, &mut state);
        let what = format!("step {step}");
        assert_weights_valid(&what, &got, &c);
        assert_close(&format!("{what}: weights"), &got, &weights, 1e-5, 1e-5);
        assert!(
            weights[0] >= f64::from(c.min_weight),
            "{what}: cpu twin {weights:?}"
        );
    }
}

#[test]
fn gradnorm_config_validate_names_the_bad_field() {
    let good = GradNormConfig::default();
    good.validate().unwrap();
    let cases: [(&str, GradNormConfig); 9] = [
        (
            "gamma",
            GradNormConfig {
                gamma: -0.5,
                ..good
            },
        ),
        (
            "gamma",
            GradNormConfig {
                gamma: f32::NAN,
                ..good
            },
        ),
        ("lr", GradNormConfig { lr: 0.0, ..good }),
        (
            "lr",
            GradNormConfig {
                lr: f32::INFINITY,
                ..good
            },
        ),
        (
            "total",
            GradNormConfig {
                total: -2.0,
                ..good
            },
        ),
        (
            "total",
            GradNormConfig {
                total: f32::NAN,
                ..good
            },
        ),
        (
            "min_weight",
            GradNormConfig {
                min_weight: 0.0,
                ..good
            },
        ),
        (
            "min_weight",
            GradNormConfig {
                min_weight: 1.0,
                ..good
            },
        ),
        (
            "min_weight",
            GradNormConfig {
                min_weight: f32::NAN,
                ..good
            },
        ),
    ];
    for (field, config) in cases {
        let err = config.validate().unwrap_err().to_string();
        assert!(
            err.contains(&format!("remul.gradnorm.{field}")),
            "{config:?}: {err}"
        );
        let err = GradNorm::new(engine(), 4, config).unwrap_err().to_string();
        assert!(err.contains(field), "GradNorm::new with {config:?}: {err}");
    }
}
