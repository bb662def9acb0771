// mse.wgsl: mean squared error between pred and truth, both [count] flattened, and its
// gradient. The loss is scale * sum((pred - truth)^2) / count, so `scale` carries a loss
// weight (alpha or beta) into both passes.
//
// Entry points and bindings (0 params, 1 pred (read), 2 truth (read), 3 out (read_write)):
//   forward   out[0] = the loss. One workgroup of 256: invocations stride over the elements,
//             then a tree in workgroup memory adds them in a fixed order (deterministic).
//             Dispatch: (1, 1, 1).
//   backward  out [count] = scale * 2 (pred - truth) / count, or added to out when
//             accumulate != 0. Dispatch: ceil(count / 256) workgroups, folded past 65535.

struct Params {
    count: u32,
    accumulate: u32,
    scale: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> truth: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn forward(@builtin(local_invocation_index) lid: u32) {
    var sum = 0.0;
    for (var i = lid; i < p.count; i += 256u) {
        let d = pred[i] - truth[i];
        sum += d * d;
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
        out[0] = p.scale * partial[0] / f32(max(p.count, 1u));
    }
}

@compute @workgroup_size(256)
fn backward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if i >= p.count {
        return;
    }
    let g = p.scale * 2.0 * (pred[i] - truth[i]) / f32(p.count);
    if p.accumulate != 0u {
        out[i] += g;
    } else {
        out[i] = g;
    }
}
