//! A small deterministic random number generator (xoshiro256++ seeded through SplitMix64)
//! with uniform, normal and log-uniform draws, for datasets and parameter initialisation.
//!
//! Simulators derive one stream per sample from `(seed, stream, index)`, so a dataset is
//! bit-identical whatever the number of threads that generate it. Not for cryptography.

/// One step of SplitMix64's output function: a strong 64-bit mixer.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// xoshiro256++ generator; the state is never all zero.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
    spare_normal: Option<f64>,
}

impl Rng {
    /// A generator seeded from one 64-bit value through SplitMix64.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let mut s = [0u64; 4];
        for word in &mut s {
            sm = sm.wrapping_add(GOLDEN);
            *word = mix64(sm);
        }
        if s == [0; 4] {
            s[0] = GOLDEN;
        }
        Rng {
            s,
            spare_normal: None,
        }
    }

    /// The generator for sample `index` of stream `stream` (e.g. a split) under `seed`.
    pub fn for_sample(seed: u64, stream: u64, index: u64) -> Self {
        let h = mix64(seed.wrapping_add(GOLDEN));
        let h = mix64(h ^ stream.wrapping_add(GOLDEN.wrapping_mul(2)));
        let h = mix64(h ^ index.wrapping_add(GOLDEN.wrapping_mul(3)));
        Rng::new(h)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Log-uniform in `[lo, hi]`: `exp(U(ln lo, ln hi))`; both bounds must be positive.
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.uniform_in(lo.ln(), hi.ln()).exp()
    }

    /// Uniform integer in `0..n` (Lemire's multiply-shift with rejection); `n` must be > 0.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// `true` with probability 1/2.
    pub fn coin(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }

    /// Standard normal draw (Box-Muller; the second value of each pair is kept for the next
    /// call).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 - U lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        self.spare_normal = Some(radius * angle.sin());
        radius * angle.cos()
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_stream_and_streams_differ() {
        let a: Vec<u64> = (0..8)
            .map(|_| Rng::for_sample(7, 1, 3).next_u64())
            .collect();
        assert!(a.iter().all(|&x| x == a[0]));
        assert_ne!(
            Rng::for_sample(7, 1, 3).next_u64(),
            Rng::for_sample(7, 1, 4).next_u64()
        );
        assert_ne!(
            Rng::for_sample(7, 1, 3).next_u64(),
            Rng::for_sample(7, 2, 3).next_u64()
        );
    }

    #[test]
    fn normal_draws_have_unit_variance() {
        // 200k draws: the standard error of the mean is ~0.0022 and of the variance ~0.0032,
        // so 0.02 is over 6 standard errors.
        let mut rng = Rng::new(1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
    }

    #[test]
    fn below_stays_in_range_and_hits_every_value() {
        let mut rng = Rng::new(2);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let k = rng.below(7) as usize;
            seen[k] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
