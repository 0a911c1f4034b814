//! Exponential backoff with full jitter: the wait before retry `n` is uniform in
//! `[0, min(cap, base * 2^n)]`, so many consumers failing together do not retry together.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    /// Attempts in all (the first try included) before a message is dead-lettered.
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(30),
            max_attempts: 6,
        }
    }
}

impl Backoff {
    /// The ceiling of the wait after `failures` failed attempts (1 = after the first failure).
    pub fn ceiling(&self, failures: u32) -> Duration {
        let factor = 1u32
            .checked_shl(failures.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A random wait in `[0, ceiling]`; `unit` is a random number in `[0, 1)`.
    pub fn wait(&self, failures: u32, unit: f64) -> Duration {
        self.ceiling(failures).mul_f64(unit.clamp(0.0, 1.0))
    }

    /// A random number in `[0, 1)` for [`Backoff::wait`], good enough for jitter.
    pub fn random_unit() -> f64 {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u8(0);
        (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_up_to_the_cap() {
        let backoff = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            max_attempts: 10,
        };
        assert_eq!(backoff.ceiling(1), Duration::from_millis(100));
        assert_eq!(backoff.ceiling(2), Duration::from_millis(200));
        assert_eq!(backoff.ceiling(4), Duration::from_millis(800));
        assert_eq!(backoff.ceiling(5), Duration::from_secs(1));
        assert_eq!(backoff.ceiling(64), Duration::from_secs(1), "no overflow");
    }

    #[test]
    fn waits_stay_within_the_ceiling() {
        let backoff = Backoff::default();
        assert_eq!(backoff.wait(3, 0.0), Duration::ZERO);
        assert_eq!(backoff.wait(3, 1.0), backoff.ceiling(3));
        for _ in 0..1000 {
            let unit = Backoff::random_unit();
            assert!((0.0..1.0).contains(&unit));
            assert!(backoff.wait(2, unit) <= backoff.ceiling(2));
        }
    }
}
