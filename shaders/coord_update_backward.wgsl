// coord_update_backward.wgsl: the backward of coord_update.wgsl. With g = dx_out[i], node i's
// degree n_i, and u_k = diff[k] * phi_x[k] for each incoming edge k (clamp passes the gradient
// where |u_kc| <= 100):
//   d_diff[k]  = (g / n_i) * mask_k * phi_x[k]
//   d_phi_x[k] = sum_c (g_c / n_i) * mask_kc * diff[k, c]
//   d_phi_v[i] = dot(g, v[i])
// The gradient of x_in is g itself: the caller copies dx_out. Every edge has one destination,
// so each d_diff and d_phi_x row is written by exactly one invocation.
//
// Bindings: 0 params, 1 dx_out [nodes, 3] (read), 2 diff [edges, 3] (read),
//           3 phi_x [edges, phi_x_stride] (read), 4 dst_offsets (read, u32 [nodes + 1]),
//           5 v [nodes, 3] (read), 6 d_diff [edges, 3] (read_write),
//           7 d_phi_x [edges, d_phi_x_stride] (read_write),
//           8 d_phi_v [nodes, d_phi_v_stride] (read_write).
// Dispatch: ceil(nodes / 64) workgroups of 64, folded into (x, y) past 65535.

struct Params {
    nodes: u32,
    phi_x_stride: u32,
    phi_x_col: u32,
    d_phi_x_stride: u32,
    d_phi_x_col: u32,
    d_phi_v_stride: u32,
    d_phi_v_col: u32,
    _pad: u32,
}

const CLAMP: f32 = 100.0;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dx_out: array<f32>;
@group(0) @binding(2) var<storage, read> diff: array<f32>;
@group(0) @binding(3) var<storage, read> phi_x: array<f32>;
@group(0) @binding(4) var<storage, read> dst_offsets: array<u32>;
@group(0) @binding(5) var<storage, read> v: array<f32>;
@group(0) @binding(6) var<storage, read_write> d_diff: array<f32>;
@group(0) @binding(7) var<storage, read_write> d_phi_x: array<f32>;
@group(0) @binding(8) var<storage, read_write> d_phi_v: array<f32>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * 64u + lid;
    if i >= p.nodes {
        return;
    }
    let g = vec3<f32>(dx_out[3u * i], dx_out[3u * i + 1u], dx_out[3u * i + 2u]);
    let vi = vec3<f32>(v[3u * i], v[3u * i + 1u], v[3u * i + 2u]);
    d_phi_v[i * p.d_phi_v_stride + p.d_phi_v_col] = dot(g, vi);

    let first = dst_offsets[i];
    let last = dst_offsets[i + 1u];
    if last == first {
        return;
    }
    let gm = g / f32(last - first);
    for (var k = first; k < last; k++) {
        let d = vec3<f32>(diff[3u * k], diff[3u * k + 1u], diff[3u * k + 2u]);
        let s = phi_x[k * p.phi_x_stride + p.phi_x_col];
        let u = d * s;
        let pass_through = select(vec3<f32>(0.0), vec3<f32>(1.0), abs(u) <= vec3<f32>(CLAMP));
        let gk = gm * pass_through;
        d_diff[3u * k] = gk.x * s;
        d_diff[3u * k + 1u] = gk.y * s;
        d_diff[3u * k + 2u] = gk.z * s;
        d_phi_x[k * p.d_phi_x_stride + p.d_phi_x_col] = dot(gk, d);
    }
}
