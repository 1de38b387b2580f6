//! SplitMix64: a tiny deterministic generator for tests, so that a failure repeats from its
//! seed (kill times in the crash tests, random identifiers in the EPC tests).

/// A SplitMix64 sequence.
pub struct SplitMix(u64);

impl SplitMix {
    /// The sequence from `seed`.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (the slight bias of `%` does not matter to a test).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}
