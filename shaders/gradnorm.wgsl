// gradnorm.wgsl: one GradNorm update of the two loss weights ("GradNorm: Gradient
// Normalization for Adaptive Loss Balancing", Chen et al. 2018), entirely on the GPU.
//
// With g_i the gradient of the unweighted loss L_i on the output layer's weights and w_i its
// weight: G_i = w_i |g_i|, G = mean G_i, training rates r_i = (L_i / L_i(0)) / mean_j
// (L_j / L_j(0)), goals G r_i^gamma (held constant), and
//   w_i <- w_i - lr * sign(G_i - G r_i^gamma) |g_i|,
// the gradient of sum_i |G_i - G r_i^gamma|; then w_i >= min_weight, the weights are
// rescaled to sum to `total`, and clamped to [min_weight, total - min_weight] (which keeps
// the sum). The first call records L_i(0) in `state`.
//
// Bindings: 0 params, 1 g_task [len] (read), 2 g_equi [len] (read), 3 losses [2] (read),
//           4 weights [2] (read_write), 5 state [4] (read_write: L_task(0), L_equi(0),
//           initialised flag, updates made).
// Dispatch: (1, 1, 1), one workgroup of 256 (fixed-order tree sums: deterministic).

struct Params {
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    gamma: f32,
    lr: f32,
    total: f32,
    min_weight: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g_task: array<f32>;
@group(0) @binding(2) var<storage, read> g_equi: array<f32>;
@group(0) @binding(3) var<storage, read> losses: array<f32>;
@group(0) @binding(4) var<storage, read_write> weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: array<f32>;

const TINY: f32 = 1e-12;

var<workgroup> partial: array<vec2<f32>, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
    var sum = vec2<f32>(0.0, 0.0);
    for (var i = lid; i < p.len; i += 256u) {
        sum += vec2<f32>(g_task[i] * g_task[i], g_equi[i] * g_equi[i]);
    }
    partial[lid] = sum;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if lid < stride {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    if lid != 0u {
        return;
    }

    let norms = sqrt(partial[0]);
    let l = vec2<f32>(losses[0], losses[1]);
    if state[2] == 0.0 {
        state[0] = max(l.x, TINY);
        state[1] = max(l.y, TINY);
        state[2] = 1.0;
    }
    let w = vec2<f32>(weights[0], weights[1]);
    let g = w * norms;
    let g_mean = 0.5 * (g.x + g.y);
    let ratio = l / vec2<f32>(state[0], state[1]);
    let ratio_mean = max(0.5 * (ratio.x + ratio.y), TINY);
    // pow(0, 0) is undefined in WGSL: a loss of exactly 0 counts as TINY.
    let goal = g_mean * pow(max(ratio / ratio_mean, vec2<f32>(TINY)), vec2<f32>(p.gamma));
    var next = max(w - p.lr * sign(g - goal) * norms, vec2<f32>(p.min_weight));
    // Rescaling can push a floored weight below min_weight again; the pair sums to total, so
    // clamping both to [min_weight, total - min_weight] keeps the sum and the floor.
    next *= p.total / (next.x + next.y);
    next = clamp(next, vec2<f32>(p.min_weight), vec2<f32>(p.total - p.min_weight));
    weights[0] = next.x;
    weights[1] = next.y;
    state[3] += 1.0;
}
