// edge_geometry.wgsl: per edge k (src j -> dst i), the difference vector and squared distance
//   diff[k] = x[dst[k]] - x[src[k]],   sq[k, sq_col] = |diff[k]|^2.
//
// Bindings: 0 params, 1 x [nodes, 3] (read), 2 src (read, u32 [edges]),
//           3 dst (read, u32 [edges]), 4 diff [edges, 3] (read_write),
//           5 sq [edges, sq_stride] (read_write).
// Dispatch: ceil(edges / 256) workgroups of 256, folded into (x, y) past 65535.

struct Params {
    edges: u32,
    sq_stride: u32,
    sq_col: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<u32>;
@group(0) @binding(3) var<storage, read> dst: array<u32>;
@group(0) @binding(4) var<storage, read_write> diff: array<f32>;
@group(0) @binding(5) var<storage, read_write> sq: array<f32>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let k = (wid.x + wid.y * nwg.x) * 256u + lid;
    if k >= p.edges {
        return;
    }
    let i = dst[k];
    let j = src[k];
    let d = vec3<f32>(x[3u * i] - x[3u * j], x[3u * i + 1u] - x[3u * j + 1u],
                      x[3u * i + 2u] - x[3u * j + 2u]);
    diff[3u * k] = d.x;
    diff[3u * k + 1u] = d.y;
    diff[3u * k + 2u] = d.z;
    sq[k * p.sq_stride + p.sq_col] = dot(d, d);
}
