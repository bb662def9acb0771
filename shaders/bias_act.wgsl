// bias_act.wgsl: the epilogue of a linear layer, z = x + bias then y = act(z).
// Its backward is bias_act_backward.wgsl.
//
// Activations (Params.act): 0 identity, 1 ReLU, 2 SiLU (z * sigmoid(z)).
// Entry points and bindings (0 is always params):
//   forward   1 x [rows, cols] (read_write: becomes z in place), 2 bias [cols], 3 y [rows, cols].
//   add_bias  1 x [rows, cols] (read_write), 2 bias [cols]: identity activation, in place.
// Dispatch: ceil(rows * cols / 256) workgroups of 256, folded into (x, y) when more than 65535
// are needed; `linear_id` unfolds them.

struct Params {
    rows: u32,
    cols: u32,
    act: u32,
    accumulate_bias: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn activate(z: f32) -> f32 {
    switch p.act {
        case 1u: { return max(z, 0.0); }
        case 2u: { return z / (1.0 + exp(-z)); }
        default: { return z; }
    }
}

fn linear_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.x + wid.y * nwg.x) * 256u + lid;
}

@compute @workgroup_size(256)
fn forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.rows * p.cols {
        return;
    }
    let z = x[i] + bias[i % p.cols];
    x[i] = z;
    y[i] = activate(z);
}

@compute @workgroup_size(256)
fn add_bias(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = linear_id(wid, nwg, lid);
    if i >= p.rows * p.cols {
        return;
    }
    x[i] = x[i] + bias[i % p.cols];
}
