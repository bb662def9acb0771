// coord_update.wgsl: the EGNN position update of node i over its incoming edges k (src j):
//   x_out[i] = x_in[i] + mean_k clamp(diff[k] * phi_x[k], -100, 100) + phi_v[i] * v[i]
// (the mean is 0 for a node without edges), in edge order (deterministic, no atomics).
//
// Bindings: 0 params, 1 x_in [nodes, 3] (read), 2 diff [edges, 3] (read),
//           3 phi_x [edges, phi_x_stride] (read), 4 dst_offsets (read, u32 [nodes + 1]),
//           5 v [nodes, 3] (read), 6 phi_v [nodes, phi_v_stride] (read),
//           7 x_out [nodes, 3] (read_write).
// Dispatch: ceil(nodes / 64) workgroups of 64, folded into (x, y) past 65535.

struct Params {
    nodes: u32,
    phi_x_stride: u32,
    phi_x_col: u32,
    phi_v_stride: u32,
    phi_v_col: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const CLAMP: f32 = 100.0;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x_in: array<f32>;
@group(0) @binding(2) var<storage, read> diff: array<f32>;
@group(0) @binding(3) var<storage, read> phi_x: array<f32>;
@group(0) @binding(4) var<storage, read> dst_offsets: array<u32>;
@group(0) @binding(5) var<storage, read> v: array<f32>;
@group(0) @binding(6) var<storage, read> phi_v: array<f32>;
@group(0) @binding(7) var<storage, read_write> x_out: array<f32>;

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
    let first = dst_offsets[i];
    let last = dst_offsets[i + 1u];
    var agg = vec3<f32>(0.0);
    for (var k = first; k < last; k++) {
        let d = vec3<f32>(diff[3u * k], diff[3u * k + 1u], diff[3u * k + 2u]);
        agg += clamp(d * phi_x[k * p.phi_x_stride + p.phi_x_col], vec3<f32>(-CLAMP),
                     vec3<f32>(CLAMP));
    }
    if last > first {
        agg /= f32(last - first);
    }
    let s = phi_v[i * p.phi_v_stride + p.phi_v_col];
    for (var c = 0u; c < 3u; c++) {
        x_out[3u * i + c] = x_in[3u * i + c] + agg[c] + s * v[3u * i + c];
    }
}
