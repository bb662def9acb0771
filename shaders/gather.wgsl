// gather.wgsl: copy rows of one matrix into columns of another, optionally through an index:
//   dst[r, dst_col + c] (+)= src[index[r] (or r), src_col + c]  for r < rows, c < width.
// Gathering node rows to edges (index = src or dst of each edge) is the forward of message
// passing; with no index it copies or adds a column block (concatenation, residuals).
//
// Bindings: 0 params, 1 src (read), 2 index (read, u32; unused unless flags bit 0),
//           3 dst (read_write).
// Flags: bit 0 indexed, bit 1 accumulate (add into dst instead of overwriting).
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
@group(0) @binding(2) var<storage, read> index: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

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
    let r = i / p.width;
    let c = i % p.width;
    var row_in = r;
    if (p.flags & 1u) != 0u {
        row_in = index[r];
    }
    let v = src[row_in * p.src_stride + p.src_col + c];
    let to = r * p.dst_stride + p.dst_col + c;
    if (p.flags & 2u) != 0u {
        dst[to] += v;
    } else {
        dst[to] = v;
    }
}
