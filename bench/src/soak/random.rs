//! A small seeded random source (xorshift64*): a run can be repeated with the same `--seed`, and
//! the load generator needs no more than this.

use std::time::Duration;

pub struct Random(u64);

impl Random {
    /// A source for one task: the run's seed mixed with the task's number.
    pub fn new(seed: u64, stream: u64) -> Self {
        // Never zero: xorshift would stay at zero.
        Random((seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            return 0;
        }
        (self.next() % bound as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An exponentially distributed wait with the given mean: events at random moments, at a
    /// steady rate on average.
    pub fn wait(&mut self, mean: Duration) -> Duration {
        let factor = -(1.0 - self.unit()).ln();
        mean.mul_f64(factor.min(20.0))
    }
}
