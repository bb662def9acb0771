// reduce.wgsl: sums of a row-major matrix x [rows, cols], deterministic (fixed summation order).
//
// Entry points and bindings (0 params, 1 x (read), 2 out (read_write)):
//   sum_rows  out [cols] = sum over rows. A workgroup owns 16 columns; its 16 row lanes stride
//             down the rows, then a tree in workgroup memory adds the lanes.
//             Dispatch: (ceil(cols / 16), 1, 1) workgroups of 16 x 16.
//   sum_cols  out [rows] = sum over columns, one invocation a row.
//             Dispatch: ceil(rows / 256) workgroups of 256, folded into (x, y) past 65535.
// With Params.accumulate != 0 the sums are added to out instead of replacing it.

struct Params {
    rows: u32,
    cols: u32,
    accumulate: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

fn emit(i: u32, v: f32) {
    if p.accumulate != 0u {
        out[i] += v;
    } else {
        out[i] = v;
    }
}

@compute @workgroup_size(16, 16)
fn sum_rows(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let col = wid.x * 16u + lid.x;
    var sum = 0.0;
    if col < p.cols {
        for (var row = lid.y; row < p.rows; row += 16u) {
            sum += x[row * p.cols + col];
        }
    }
    partial[lid.y * 16u + lid.x] = sum;
    workgroupBarrier();

    for (var stride = 8u; stride > 0u; stride >>= 1u) {
        if lid.y < stride {
            partial[lid.y * 16u + lid.x] += partial[(lid.y + stride) * 16u + lid.x];
        }
        workgroupBarrier();
    }

    if lid.y == 0u && col < p.cols {
        emit(col, partial[lid.x]);
    }
}

@compute @workgroup_size(256)
fn sum_cols(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = (wid.x + wid.y * nwg.x) * 256u + lid;
    if row >= p.rows {
        return;
    }
    var sum = 0.0;
    let base = row * p.cols;
    for (var j = 0u; j < p.cols; j++) {
        sum += x[base + j];
    }
    emit(row, sum);
}
