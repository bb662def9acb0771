// bias_act_backward.wgsl: backward of bias_act.wgsl's forward, dz = dy * act'(z) and
// dbias = sum over rows of dz, in one pass.
//
// Bindings: 0 params (uniform), 1 z [rows, cols] (read), 2 dy [rows, cols] (read),
// 3 dz [rows, cols] (read_write), 4 dbias [cols] (read_write; added to when accumulate_bias).
// Dispatch: (ceil(cols / 16), 1, 1) workgroups of 16 x 16. A workgroup owns 16 columns; its 16
// row lanes stride down all rows, then a tree in workgroup memory adds the lanes in a fixed
// order, so the bias gradient is deterministic. dz may alias nothing else.

struct Params {
    rows: u32,
    cols: u32,
    act: u32,
    accumulate_bias: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;

var<workgroup> partial: array<f32, 256>;

fn activate_grad(v: f32) -> f32 {
    switch p.act {
        case 1u: { return select(0.0, 1.0, v > 0.0); }
        case 2u: {
            let s = 1.0 / (1.0 + exp(-v));
            return s * (1.0 + v * (1.0 - s));
        }
        default: { return 1.0; }
    }
}

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let col = wid.x * 16u + lid.x;
    var sum = 0.0;
    if col < p.cols {
        for (var row = lid.y; row < p.rows; row += 16u) {
            let i = row * p.cols + col;
            let g = dy[i] * activate_grad(z[i]);
            dz[i] = g;
            sum += g;
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
        if p.accumulate_bias != 0u {
            dbias[col] += partial[lid.x];
        } else {
            dbias[col] = partial[lid.x];
        }
    }
}
