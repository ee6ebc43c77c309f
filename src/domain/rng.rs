//! Small deterministic generators: variant assignment must give the same
//! profile the same variant on every host and every release, so it cannot
//! rest on std's hasher.

/// FNV-1a, 64 bits.
pub fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0xff;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        for b in part.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    mix(h)
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64: a seeded generator for simulations and the demo.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The variant a profile gets in a test, by weight; the same inputs always
/// give the same index.
pub fn assign_variant(profile: &str, test: &str, weights: &[u32]) -> usize {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if total == 0 {
        return 0;
    }
    let mut point = fnv1a(&[test, profile]) % total;
    for (i, &w) in weights.iter().enumerate() {
        if point < u64::from(w) {
            return i;
        }
        point -= u64::from(w);
    }
    weights.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_is_deterministic_and_follows_weights() {
        let weights = [20, 80];
        let mut counts = [0usize; 2];
        for i in 0..20_000 {
            let p = format!("p-{i}");
            let v = assign_variant(&p, "subject", &weights);
            assert_eq!(v, assign_variant(&p, "subject", &weights));
            counts[v] += 1;
        }
        let share = counts[0] as f64 / 20_000.0;
        assert!((share - 0.2).abs() < 0.02, "share {share}");
        // Pinned so a change of hash never reshuffles running tests.
        assert_eq!(fnv1a(&["subject-line", "p-1"]), 7_113_045_844_584_824_642);
        let first: Vec<usize> = (0..12)
            .map(|i| assign_variant(&format!("p-{i}"), "subject-line", &[50, 50]))
            .collect();
        assert_eq!(first, vec![0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0]);
        assert_ne!(fnv1a(&["ab", ""]), fnv1a(&["a", "b"]));
    }
}
