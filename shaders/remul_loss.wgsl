// remul_loss.wgsl: the two losses of REMUL training on a doubled batch and the gradient of
// their weighted sum.
//
// The batch holds two copies of `nodes` nodes each: copy 0 the original graphs, copy 1 the
// same graphs transformed by (R_g, t_g), transforms row g = node_graph[i] of copy 0's node i.
// Outputs `out` and targets `y` are [2 * nodes, 3] (or [nodes, 3] when form = 0).
//
//   task loss         L_t = mean over copy 0 of (out_0 - y_0)^2
//   label form        L_e = mean over copy 1 of (out_1 - y_1)^2       (y_1 = R y_0 + t)
//   consistency form  L_e = mean over copy 1 of (out_1 - (R out_0 + t))^2
// Means are over nodes * 3 numbers. Form 0 has no equivariance term (L_e = 0).
//
// Entry points and bindings (0 params, 1 out, 2 y, 3 transforms [graphs, 12] (R row-major,
// then t), 4 node_graph (u32), 5 losses [2] or d_output, 6 weights [2] (w_task, w_equi),
// 7 d_task, 8 d_equi):
//   losses  losses = [L_t, L_e]. One workgroup of 256, fixed-order tree sums.
//           Dispatch (1, 1, 1).
//   grads   per node of copy 0: d_task and d_equi (gradients of the unweighted losses, over
//           both copies) and d_output = w_task d_task + w_equi d_equi.
//           Dispatch ceil(nodes / 64) workgroups of 64, folded past 65535.

struct Params {
    nodes: u32,
    form: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> out: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> transforms: array<f32>;
@group(0) @binding(4) var<storage, read> node_graph: array<u32>;
@group(0) @binding(5) var<storage, read_write> result: array<f32>;
@group(0) @binding(6) var<storage, read> weights: array<f32>;
@group(0) @binding(7) var<storage, read_write> d_task: array<f32>;
@group(0) @binding(8) var<storage, read_write> d_equi: array<f32>;

const FORM_NONE: u32 = 0u;
const FORM_LABEL: u32 = 1u;
const FORM_CONSISTENCY: u32 = 2u;

fn out_row(row: u32) -> vec3<f32> {
    return vec3<f32>(out[row * 3u], out[row * 3u + 1u], out[row * 3u + 2u]);
}

fn y_row(row: u32) -> vec3<f32> {
    return vec3<f32>(y[row * 3u], y[row * 3u + 1u], y[row * 3u + 2u]);
}

// R and t of copy 0's node i.
fn transform_of(i: u32) -> mat3x3<f32> {
    let b = node_graph[i] * 12u;
    // WGSL matrices are column-major: column c holds R[0][c], R[1][c], R[2][c].
    return mat3x3<f32>(
        vec3<f32>(transforms[b], transforms[b + 3u], transforms[b + 6u]),
        vec3<f32>(transforms[b + 1u], transforms[b + 4u], transforms[b + 7u]),
        vec3<f32>(transforms[b + 2u], transforms[b + 5u], transforms[b + 8u]),
    );
}

fn translation_of(i: u32) -> vec3<f32> {
    let b = node_graph[i] * 12u + 9u;
    return vec3<f32>(transforms[b], transforms[b + 1u], transforms[b + 2u]);
}

// The equivariance residual of copy 0's node i: out_1 minus what it should equal.
fn equi_residual(i: u32) -> vec3<f32> {
    let o1 = out_row(p.nodes + i);
    if p.form == FORM_LABEL {
        return o1 - y_row(p.nodes + i);
    }
    return o1 - (transform_of(i) * out_row(i) + translation_of(i));
}

var<workgroup> partial: array<vec2<f32>, 256>;

@compute @workgroup_size(256)
fn losses(@builtin(local_invocation_index) lid: u32) {
    var sum = vec2<f32>(0.0, 0.0);
    for (var i = lid; i < p.nodes; i += 256u) {
        let d = out_row(i) - y_row(i);
        sum.x += dot(d, d);
        if p.form != FORM_NONE {
            let r = equi_residual(i);
            sum.y += dot(r, r);
        }
    }
    partial[lid] = sum;
    workgroupBarrier();

    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if lid < stride {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }

    if lid == 0u {
        let count = f32(max(p.nodes, 1u) * 3u);
        result[0] = partial[0].x / count;
        result[1] = partial[0].y / count;
    }
}

fn store3(row: u32, task: vec3<f32>, equi: vec3<f32>) {
    let total = weights[0] * task + weights[1] * equi;
    for (var c = 0u; c < 3u; c++) {
        d_task[row * 3u + c] = task[c];
        d_equi[row * 3u + c] = equi[c];
        result[row * 3u + c] = total[c];
    }
}

@compute @workgroup_size(64)
fn grads(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * 64u + lid;
    if i >= p.nodes {
        return;
    }
    let k = 2.0 / f32(p.nodes * 3u);
    let task = k * (out_row(i) - y_row(i));
    let zero = vec3<f32>(0.0, 0.0, 0.0);
    if p.form == FORM_NONE {
        store3(i, task, zero);
        return;
    }
    let e1 = k * equi_residual(i);
    var e0 = zero;
    if p.form == FORM_CONSISTENCY {
        // d/d out_0 of |out_1 - R out_0 - t|^2 is -R^T times d/d out_1.
        e0 = -(transpose(transform_of(i)) * e1);
    }
    store3(i, task, e0);
    store3(p.nodes + i, zero, e1);
}
