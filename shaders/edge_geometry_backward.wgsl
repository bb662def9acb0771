// edge_geometry_backward.wgsl: the gradient of the node positions from the gradients of the
// edge difference vectors and squared distances of edge_geometry.wgsl. With
// g_k = d_diff[k] + 2 diff[k] d_sq[k] for edge k (src j -> dst i), diff[k] = x_i - x_j gives
//   dx[i] (+)= sum over edges into i of g_k  -  sum over edges out of i of g_k,
// each sum in edge order (deterministic, no atomics).
//
// Bindings: 0 params, 1 diff [edges, 3] (read), 2 d_diff [edges, 3] (read; unused unless
//           flags bit 0), 3 d_sq [edges, sq_stride] (read), 4 dst_offsets (read, u32
//           [nodes + 1]), 5 src_offsets (read, u32 [nodes + 1]), 6 src_perm (read, u32
//           [edges]: edges ordered by source), 7 dx [nodes, 3] (read_write).
// Flags: bit 0 d_diff given, bit 1 accumulate into dx.
// Dispatch: ceil(nodes / 64) workgroups of 64, folded into (x, y) past 65535.

struct Params {
    nodes: u32,
    sq_stride: u32,
    sq_col: u32,
    flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> diff: array<f32>;
@group(0) @binding(2) var<storage, read> d_diff: array<f32>;
@group(0) @binding(3) var<storage, read> d_sq: array<f32>;
@group(0) @binding(4) var<storage, read> dst_offsets: array<u32>;
@group(0) @binding(5) var<storage, read> src_offsets: array<u32>;
@group(0) @binding(6) var<storage, read> src_perm: array<u32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;

fn edge_grad(k: u32) -> vec3<f32> {
    let d = vec3<f32>(diff[3u * k], diff[3u * k + 1u], diff[3u * k + 2u]);
    var g = 2.0 * d_sq[k * p.sq_stride + p.sq_col] * d;
    if (p.flags & 1u) != 0u {
        g += vec3<f32>(d_diff[3u * k], d_diff[3u * k + 1u], d_diff[3u * k + 2u]);
    }
    return g;
}

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
    var g = vec3<f32>(0.0);
    for (var k = dst_offsets[i]; k < dst_offsets[i + 1u]; k++) {
        g += edge_grad(k);
    }
    for (var s = src_offsets[i]; s < src_offsets[i + 1u]; s++) {
        g -= edge_grad(src_perm[s]);
    }
    if (p.flags & 2u) != 0u {
        g += vec3<f32>(dx[3u * i], dx[3u * i + 1u], dx[3u * i + 2u]);
    }
    dx[3u * i] = g.x;
    dx[3u * i + 1u] = g.y;
    dx[3u * i + 2u] = g.z;
}
