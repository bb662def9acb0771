// peak_copy.wgsl: a bandwidth-bound kernel that measures an adapter's copy bandwidth:
// dst[i] = src[i] over vec4 elements, one read and one write of 16 bytes an invocation.
//
// Bindings: 0 params, 1 src [len] vec4 (read), 2 dst [len] vec4 (read_write).
// Dispatch: ceil(len / 256) workgroups of 256, folded into (x, y) past 65535.

struct Params {
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if i < p.len {
        dst[i] = src[i];
    }
}
