// rotate.wgsl: a random roto-translation per graph of a batch, and its action on node rows.
//
// Entry points (params at binding 0 are shared; each fills the fields it reads):
//   sample  transforms[g] = R_g row-major (9 floats), then t_g (3 floats), for g < graphs.
//           Every random number is a hash of (seed, step, graph, draw): no state buffer, no host
//           round trip, the same draws whatever the dispatch shape. R_g is Haar on SO(3) (a
//           normalised 4-D Gaussian quaternion), times -I with probability 1/2 for O(3); with a
//           restricted angle range, a uniform axis and an angle from the Haar angle density
//           (1 - cos a) / pi restricted to [angle_lo, angle_hi]; for the fixed-axis kind, an
//           angle uniform in [angle_lo, angle_hi] with a random sign. t_g ~ N(0, std^2) each.
//           Dispatch: ceil(graphs / 64) workgroups of 64, folded into (x, y) past 65535.
//   apply   for r < count, with g = node_graph[graph_first + r]:
//           output[out_first + r] = R_g input[in_first + r] (+ t_g in point mode).
//           A row whose graph index is out of range is written as NaN (p.nan_bits).
//           Dispatch: ceil(count / 256) workgroups of 256, folded into (x, y) past 65535.
//
// Bindings: 0 params; 1 transforms [graphs, 12] (sample writes, apply reads); apply only:
// 2 node_graph u32 [nodes], 3 input [_, 3], 4 output [_, 3]. transforms and input are declared
// read_write so that one declaration serves both entry points and so that input may share a
// buffer with output (disjoint rows, e.g. the two halves of a doubled batch); apply writes
// neither.
//
// Draws of graph g use counter g * 16 + d:
//   d 0, 1  quaternion w, x (Box-Muller) | axis: z = 2u - 1, azimuth
//   d 2, 3  quaternion y, z (Box-Muller) | angle, sign of the angle (fixed-axis kind)
//   d 4     reflection (O(3): u < 1/2 negates R)
//   d 8-11  translation: two Box-Muller pairs, three of the four normals used

struct Params {
    seed_lo: u32,
    seed_hi: u32,
    step_lo: u32,
    step_hi: u32,
    graphs: u32,
    kind: u32,
    restricted: u32,
    nan_bits: u32,
    axis_x: f32,
    axis_y: f32,
    axis_z: f32,
    translation_std: f32,
    angle_lo: f32,
    angle_hi: f32,
    h_lo: f32,
    h_hi: f32,
    count: u32,
    graph_first: u32,
    in_first: u32,
    out_first: u32,
    mode: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> transforms: array<f32>;
@group(0) @binding(2) var<storage, read> node_graph: array<u32>;
@group(0) @binding(3) var<storage, read_write> input: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

const PI: f32 = 3.14159265358979;
const KIND_O3: u32 = 1u;
const KIND_AXIS: u32 = 2u;
const MODE_POINT: u32 = 0u;
const DRAWS: u32 = 16u;
const INV_2_24: f32 = 1.0 / 16777216.0;
// Bisection halvings of the angle bracket: past f32 resolution for any bracket within [0, pi].
const BISECTIONS: u32 = 32u;

// The PCG hash of "Hash Functions for GPU Rendering" (Jarzynski, Olano): a 32-bit mixer.
fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// Keys of the stream: x from the seed alone, y from the seed and the step.
fn stream_key() -> vec2<u32> {
    let ks = pcg(pcg(p.seed_lo) ^ p.seed_hi);
    let kt = pcg(pcg(ks ^ p.step_lo) ^ p.step_hi);
    return vec2<u32>(ks, kt);
}

// Uniform in [0, 1) with 24 bits, exact in f32, for counter c.
fn uniform01(key: vec2<u32>, c: u32) -> f32 {
    let h = pcg(pcg(pcg(c) ^ key.y) + key.x);
    return f32(h >> 8u) * INV_2_24;
}

// -ln(1 - u) for u in [0, 1); a series below 1/16, where log near 1 is only accurate to an
// absolute 2^-21 in WGSL and the Box-Muller radius sqrt(-2 ln(1 - u)) would amplify that.
fn neg_log1m(u: f32) -> f32 {
    if u < 0.0625 {
        return u * (1.0 + u * (0.5 + u * (1.0 / 3.0 + u * (0.25 + u * (0.2
            + u * (1.0 / 6.0 + u / 7.0))))));
    }
    return -log(1.0 - u);
}

// Two independent standard normals from two uniforms (Box-Muller); the angle stays in
// [-pi, pi), where WGSL's sin and cos are accurate.
fn normal_pair(u1: f32, u2: f32) -> vec2<f32> {
    let radius = sqrt(2.0 * neg_log1m(u1));
    let phi = PI * (2.0 * u2 - 1.0);
    return radius * vec2<f32>(cos(phi), sin(phi));
}

// a - sin(a), pi times the Haar angle CDF; a series below 1/2 avoids the cancellation.
fn theta_minus_sin(a: f32) -> f32 {
    if a < 0.5 {
        let a2 = a * a;
        return a * a2 * (1.0 / 6.0 - a2 * (1.0 / 120.0 - a2 * (1.0 / 5040.0 - a2 / 362880.0)));
    }
    return a - sin(a);
}

// The angle in [angle_lo, angle_hi] at Haar-CDF fraction u of that range, by bisection.
fn haar_angle(u: f32) -> f32 {
    let target_h = p.h_lo + u * (p.h_hi - p.h_lo);
    var lo = p.angle_lo;
    var hi = p.angle_hi;
    for (var i = 0u; i < BISECTIONS; i++) {
        let mid = 0.5 * (lo + hi);
        if theta_minus_sin(mid) < target_h {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return 0.5 * (lo + hi);
}

struct Rotation {
    r0: vec3<f32>,
    r1: vec3<f32>,
    r2: vec3<f32>,
}

// The rotation of unit quaternion q = (w, x, y, z).
fn from_quaternion(q: vec4<f32>) -> Rotation {
    let w = q.x;
    let x = q.y;
    let y = q.z;
    let z = q.w;
    return Rotation(
        vec3<f32>(1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - w * z), 2.0 * (x * z + w * y)),
        vec3<f32>(2.0 * (x * y + w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - w * x)),
        vec3<f32>(2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)),
    );
}

// The rotation by angle a about unit axis n (Rodrigues), with 1 - cos a as 2 sin^2(a / 2).
fn from_axis_angle(n: vec3<f32>, a: f32) -> Rotation {
    let c = cos(a);
    let s = sin(a);
    let h = sin(0.5 * a);
    let v = 2.0 * h * h;
    return Rotation(
        vec3<f32>(c + v * n.x * n.x, v * n.x * n.y - s * n.z, v * n.x * n.z + s * n.y),
        vec3<f32>(v * n.y * n.x + s * n.z, c + v * n.y * n.y, v * n.y * n.z - s * n.x),
        vec3<f32>(v * n.z * n.x - s * n.y, v * n.z * n.y + s * n.x, c + v * n.z * n.z),
    );
}

fn draw_rotation(key: vec2<u32>, base: u32) -> Rotation {
    let u0 = uniform01(key, base);
    let u1 = uniform01(key, base + 1u);
    let u2 = uniform01(key, base + 2u);
    let u3 = uniform01(key, base + 3u);
    if p.kind == KIND_AXIS {
        var a = p.angle_lo + u2 * (p.angle_hi - p.angle_lo);
        if u3 < 0.5 {
            a = -a;
        }
        return from_axis_angle(vec3<f32>(p.axis_x, p.axis_y, p.axis_z), a);
    }
    if p.restricted != 0u {
        let z = 2.0 * u0 - 1.0;
        let ring = sqrt(max((1.0 - z) * (1.0 + z), 0.0));
        let phi = PI * (2.0 * u1 - 1.0);
        let n = vec3<f32>(ring * cos(phi), ring * sin(phi), z);
        return from_axis_angle(n, haar_angle(u2));
    }
    let q = vec4<f32>(normal_pair(u0, u1), normal_pair(u2, u3));
    let norm2 = dot(q, q);
    // Only when both radii are exactly 0 (probability 2^-48): the identity.
    if norm2 == 0.0 {
        return from_quaternion(vec4<f32>(1.0, 0.0, 0.0, 0.0));
    }
    return from_quaternion(q * inverseSqrt(norm2));
}

@compute @workgroup_size(64)
fn sample(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let g = (wid.x + wid.y * nwg.x) * 64u + lid;
    if g >= p.graphs {
        return;
    }
    let key = stream_key();
    let base = g * DRAWS;

    var rot = draw_rotation(key, base);
    if p.kind == KIND_O3 && uniform01(key, base + 4u) < 0.5 {
        rot = Rotation(-rot.r0, -rot.r1, -rot.r2);
    }

    let n01 = normal_pair(uniform01(key, base + 8u), uniform01(key, base + 9u));
    let n23 = normal_pair(uniform01(key, base + 10u), uniform01(key, base + 11u));
    let t = p.translation_std * vec3<f32>(n01, n23.x);

    let o = g * 12u;
    transforms[o] = rot.r0.x;
    transforms[o + 1u] = rot.r0.y;
    transforms[o + 2u] = rot.r0.z;
    transforms[o + 3u] = rot.r1.x;
    transforms[o + 4u] = rot.r1.y;
    transforms[o + 5u] = rot.r1.z;
    transforms[o + 6u] = rot.r2.x;
    transforms[o + 7u] = rot.r2.y;
    transforms[o + 8u] = rot.r2.z;
    transforms[o + 9u] = t.x;
    transforms[o + 10u] = t.y;
    transforms[o + 11u] = t.z;
}

@compute @workgroup_size(256)
fn apply(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let r = (wid.x + wid.y * nwg.x) * 256u + lid;
    if r >= p.count {
        return;
    }
    let g = node_graph[p.graph_first + r];
    let o = (p.out_first + r) * 3u;
    if g >= p.graphs {
        let nan = bitcast<f32>(p.nan_bits);
        output[o] = nan;
        output[o + 1u] = nan;
        output[o + 2u] = nan;
        return;
    }

    let i = (p.in_first + r) * 3u;
    let x = vec3<f32>(input[i], input[i + 1u], input[i + 2u]);
    let b = g * 12u;
    let r0 = vec3<f32>(transforms[b], transforms[b + 1u], transforms[b + 2u]);
    let r1 = vec3<f32>(transforms[b + 3u], transforms[b + 4u], transforms[b + 5u]);
    let r2 = vec3<f32>(transforms[b + 6u], transforms[b + 7u], transforms[b + 8u]);
    var y = vec3<f32>(dot(r0, x), dot(r1, x), dot(r2, x));
    if p.mode == MODE_POINT {
        y += vec3<f32>(transforms[b + 9u], transforms[b + 10u], transforms[b + 11u]);
    }
    output[o] = y.x;
    output[o + 1u] = y.y;
    output[o + 2u] = y.z;
}
