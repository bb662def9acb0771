// peak_fma.wgsl: an arithmetic-bound kernel that measures an adapter's f32 FMA rate.
//
// Each invocation runs `iters` rounds over 8 independent vec4 accumulators,
// acc_j = fma(acc_j, x, y), i.e. 8 * 4 * 2 = 64 flops a round with no memory traffic, then
// writes the sum of its accumulators (so that the compiler cannot drop the loop).
// x = 0.999 and y = 0.001 keep every value in [0, 1]: the result is exact to compare.
//
// Bindings: 0 params, 1 out [invocations] (read_write).
// Dispatch: ceil(invocations / 256) workgroups of 256, folded into (x, y) past 65535.

struct Params {
    invocations: u32,
    iters: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if i >= p.invocations {
        return;
    }
    let x = vec4<f32>(0.999);
    let y = vec4<f32>(0.001);
    let s = f32(i % 7u) * 0.125;
    var a0 = vec4<f32>(s, 0.1, 0.2, 0.3);
    var a1 = a0 + 0.01;
    var a2 = a0 + 0.02;
    var a3 = a0 + 0.03;
    var a4 = a0 + 0.04;
    var a5 = a0 + 0.05;
    var a6 = a0 + 0.06;
    var a7 = a0 + 0.07;
    for (var r = 0u; r < p.iters; r++) {
        a0 = fma(a0, x, y);
        a1 = fma(a1, x, y);
        a2 = fma(a2, x, y);
        a3 = fma(a3, x, y);
        a4 = fma(a4, x, y);
        a5 = fma(a5, x, y);
        a6 = fma(a6, x, y);
        a7 = fma(a7, x, y);
    }
    let t = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    out[i] = t.x + t.y + t.z + t.w;
}
