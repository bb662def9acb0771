// matmul.wgsl: C = op(A) · op(B), or C += op(A) · op(B) when accumulating; f32, row-major.
//
// C is [m, n]; op(A) is [m, k] and op(B) is [k, n]. Either operand may be stored transposed:
// the strides say where element (i, l) lives, op(A)[i, l] = a[i * a_row + l * a_col] and
// op(B)[l, j] = b[l * b_row + j * b_col], so A·B, Aᵀ·B and A·Bᵀ share this one kernel.
//
// Bindings: 0 params (uniform), 1 a (read), 2 b (read), 3 c (read_write).
// Dispatch: (ceil(n / (4 WG_X)), ceil(m / (RM WG_Y)), 1) workgroups of WG_X x WG_Y invocations;
// each invocation keeps an RM x 4 block of C in registers. WG_X, WG_Y and RM are the tile
// shape, set per adapter by the autotuner in matmul.rs (which rewrites the three `const`
// lines below). Loads clamp their indices into the matrix, so the inner loop has no branches;
// only the final store is masked. No workgroup memory and no barriers: software adapters pay
// dearly for barriers, and GPUs cache the reused rows well enough. Every variant sums each
// element over l in the same order, so all give bit-identical results.

const WG_X: u32 = 16u;
const WG_Y: u32 = 16u;
const RM: u32 = 4u;

struct Params {
    m: u32,
    n: u32,
    k: u32,
    accumulate: u32,
    a_row: u32,
    a_col: u32,
    b_row: u32,
    b_col: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row0 = gid.y * RM;
    let col0 = gid.x * 4u;
    if row0 >= p.m || col0 >= p.n {
        return;
    }

    let last_row = p.m - 1u;
    let last_col = p.n - 1u;
    let cols = min(vec4<u32>(col0, col0 + 1u, col0 + 2u, col0 + 3u), vec4<u32>(last_col));
    let cb = cols * p.b_col;
    var ra: array<u32, RM>;
    var acc: array<vec4<f32>, RM>;
    for (var r = 0u; r < RM; r++) {
        ra[r] = min(row0 + r, last_row) * p.a_row;
        acc[r] = vec4<f32>(0.0);
    }
    for (var l = 0u; l < p.k; l++) {
        let ao = l * p.a_col;
        let bo = l * p.b_row;
        let bv = vec4<f32>(b[bo + cb.x], b[bo + cb.y], b[bo + cb.z], b[bo + cb.w]);
        for (var r = 0u; r < RM; r++) {
            acc[r] += a[ra[r] + ao] * bv;
        }
    }

    for (var r = 0u; r < RM; r++) {
        store_row(row0 + r, col0, acc[r]);
    }
}

fn store_row(row: u32, col0: u32, v: vec4<f32>) {
    if row >= p.m {
        return;
    }
    let base = row * p.n;
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + j;
        if col < p.n {
            if p.accumulate != 0u {
                c[base + col] += v[j];
            } else {
                c[base + col] = v[j];
            }
        }
    }
}
