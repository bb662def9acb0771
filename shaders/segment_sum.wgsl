// segment_sum.wgsl: sum (or mean) of edge rows into their nodes over CSR offsets, without
// atomics, in a fixed order (deterministic):
//   dst[i, dst_col + c] (+)= scale_i * sum_{k = offsets[i]}^{offsets[i+1]-1}
//                                         src[perm[k] (or k), src_col + c]
// with scale_i = 1, or 1 / (offsets[i+1] - offsets[i]) for the mean (0 for a node with no
// edge). With offsets over destinations this aggregates messages at their receivers; with
// offsets over sources and perm = edges ordered by source it is the backward of gathering
// node rows to edge sources.
//
// Bindings: 0 params, 1 src (read), 2 offsets (read, u32 [rows + 1]),
//           3 perm (read, u32; unused unless flags bit 0), 4 dst (read_write).
// Flags: bit 0 permuted, bit 1 accumulate, bit 2 mean.
// Dispatch: ceil(rows * width / 256) workgroups of 256, folded into (x, y) past 65535.

struct Params {
    rows: u32,
    width: u32,
    src_stride: u32,
    src_col: u32,
    dst_stride: u32,
    dst_col: u32,
    flags: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read> perm: array<u32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if i >= p.rows * p.width {
        return;
    }
    let node = i / p.width;
    let c = i % p.width;
    let first = offsets[node];
    let last = offsets[node + 1u];
    var sum = 0.0;
    for (var k = first; k < last; k++) {
        var row = k;
        if (p.flags & 1u) != 0u {
            row = perm[k];
        }
        sum += src[row * p.src_stride + p.src_col + c];
    }
    if (p.flags & 4u) != 0u && last > first {
        sum /= f32(last - first);
    }
    let to = node * p.dst_stride + p.dst_col + c;
    if (p.flags & 2u) != 0u {
        dst[to] += sum;
    } else {
        dst[to] = sum;
    }
}
