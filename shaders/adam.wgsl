// adam.wgsl: one fused Adam or AdamW step over a flat parameter buffer ("Adam: A Method for
// Stochastic Optimization", Kingma & Ba; "Decoupled Weight Decay Regularization", Loshchilov &
// Hutter), with bias correction. PyTorch's semantics:
//   Adam:  g += weight_decay * param
//   AdamW: param *= 1 - lr * weight_decay
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   param -= lr * (m / bias1) / (sqrt(v / bias2) + eps),  bias_i = 1 - beta_i^step
//
// Bindings: 0 params (uniform, rewritten each step), 1 param, 2 grad (read), 3 m, 4 v; all
// [count]. Dispatch: ceil(count / 256) workgroups of 256, folded into (x, y) past 65535.

struct Params {
    count: u32,
    decoupled: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    bias1: f32,
    bias2: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if i >= p.count {
        return;
    }
    var w = param[i];
    var g = grad[i];
    if p.decoupled != 0u {
        w *= 1.0 - p.lr * p.weight_decay;
    } else {
        g += p.weight_decay * w;
    }
    let m1 = p.beta1 * m[i] + (1.0 - p.beta1) * g;
    let v1 = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
    m[i] = m1;
    v[i] = v1;
    param[i] = w - p.lr * (m1 / p.bias1) / (sqrt(v1 / p.bias2) + p.eps);
}
