//! The id generator: lock-free, monotonic per worker, safe to share between threads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{EPOCH_UNIX_MS, SEQUENCE_BITS, SEQUENCE_MASK, TIMESTAMP_SHIFT, WORKER_BITS};

/// Which of the 8192 workers made an id. Two processes that make ids for the same table must
/// have different worker ids, or their ids may collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerId(u16);

#[derive(Debug, thiserror::Error)]
#[error("worker id {0} is out of range 0..{max}", max = 1u32 << WORKER_BITS)]
pub struct WorkerIdOutOfRange(pub u32);

impl WorkerId {
    pub fn new(value: u32) -> Result<WorkerId, WorkerIdOutOfRange> {
        if value < (1 << WORKER_BITS) {
            Ok(WorkerId(value as u16))
        } else {
            Err(WorkerIdOutOfRange(value))
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }

    /// The configured worker id (`node_id`), or a random one when none was configured.
    pub fn configured_or_random(node_id: Option<u32>) -> Result<WorkerId, WorkerIdOutOfRange> {
        node_id.map_or(Ok(WorkerId::random()), WorkerId::new)
    }

    /// A random worker id, for processes that were given none. Two such processes collide with
    /// probability 1/8192, so replicas that create rows should be given distinct ids instead.
    pub fn random() -> WorkerId {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        WorkerId((hasher.finish() % (1 << WORKER_BITS)) as u16)
    }
}

/// Makes ids for one worker.
///
/// The state is one atomic word, `milliseconds << SEQUENCE_BITS | sequence`, advanced with
/// compare-and-swap, so concurrent callers never take a lock. When the 1024 ids of a millisecond
/// are used up, or the wall clock steps backwards, the generator runs ahead on a logical clock
/// instead of waiting or repeating: ids stay unique and increasing, and the wall clock catches up.
#[derive(Debug)]
pub struct IdGenerator {
    worker: u64,
    state: AtomicU64,
    clock: fn() -> u64,
}

impl IdGenerator {
    pub fn new(worker: WorkerId) -> IdGenerator {
        IdGenerator::with_clock(worker, wall_clock_ms_since_epoch)
    }

    /// A generator reading time from `clock` (milliseconds since [`EPOCH_UNIX_MS`]), for tests.
    pub fn with_clock(worker: WorkerId, clock: fn() -> u64) -> IdGenerator {
        IdGenerator {
            worker: u64::from(worker.0),
            state: AtomicU64::new(0),
            clock,
        }
    }

    pub fn next_id(&self) -> u64 {
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            let last_ms = current >> SEQUENCE_BITS;
            let now_ms = (self.clock)();
            let next = if now_ms > last_ms {
                now_ms << SEQUENCE_BITS
            } else if current & SEQUENCE_MASK < SEQUENCE_MASK {
                current + 1
            } else {
                (last_ms + 1) << SEQUENCE_BITS
            };
            match self.state.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let ms = next >> SEQUENCE_BITS;
                    let sequence = next & SEQUENCE_MASK;
                    return (ms << TIMESTAMP_SHIFT) | (self.worker << SEQUENCE_BITS) | sequence;
                }
                Err(actual) => current = actual,
            }
        }
    }
}

fn wall_clock_ms_since_epoch() -> u64 {
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0);
    unix_ms.saturating_sub(EPOCH_UNIX_MS)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;
    use crate::decompose;

    #[test]
    fn ids_increase_strictly_for_one_worker() {
        let generator = IdGenerator::new(WorkerId::new(7).unwrap());
        let mut last = 0;
        for _ in 0..100_000 {
            let id = generator.next_id();
            assert!(id > last, "{id} after {last}");
            last = id;
        }
    }

    #[test]
    fn ids_are_unique_across_threads() {
        let generator = Arc::new(IdGenerator::new(WorkerId::new(1).unwrap()));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let generator = Arc::clone(&generator);
                std::thread::spawn(move || {
                    (0..50_000).map(|_| generator.next_id()).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = HashSet::new();
        for handle in handles {
            for id in handle.join().unwrap() {
                assert!(all.insert(id), "duplicate id {id}");
            }
        }
        assert_eq!(all.len(), 200_000);
    }

    #[test]
    fn creation_time_and_worker_are_recoverable() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let id = IdGenerator::new(WorkerId::new(8191).unwrap()).next_id();
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let parts = decompose(id);
        assert!((before..=after).contains(&parts.unix_ms), "{parts:?}");
        assert_eq!(parts.worker, 8191);
    }

    #[test]
    fn a_frozen_clock_runs_ahead_instead_of_repeating() {
        let generator = IdGenerator::with_clock(WorkerId::new(0).unwrap(), || 1_000);
        let ids: Vec<u64> = (0..3000).map(|_| generator.next_id()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        // 1024 ids per millisecond: 3000 ids spill into the next two milliseconds.
        assert_eq!(decompose(ids[0]).unix_ms, EPOCH_UNIX_MS + 1_000);
        assert_eq!(decompose(ids[2999]).unix_ms, EPOCH_UNIX_MS + 1_002);
    }

    #[test]
    fn a_clock_stepping_backwards_never_produces_smaller_ids() {
        use std::sync::atomic::AtomicU64;
        static NOW: AtomicU64 = AtomicU64::new(5_000);
        let generator =
            IdGenerator::with_clock(WorkerId::new(3).unwrap(), || NOW.load(Ordering::SeqCst));
        let before = generator.next_id();
        NOW.store(4_000, Ordering::SeqCst);
        let after = generator.next_id();
        assert!(after > before);
    }

    #[test]
    fn a_configured_worker_id_wins_over_a_random_one() {
        assert_eq!(WorkerId::configured_or_random(Some(42)).unwrap().get(), 42);
        assert!(WorkerId::configured_or_random(Some(9000)).is_err());
        assert!(WorkerId::configured_or_random(None).unwrap().get() < 8192);
    }

    #[test]
    fn worker_ids_beyond_13_bits_are_refused() {
        assert!(WorkerId::new(8191).is_ok());
        assert!(WorkerId::new(8192).is_err());
    }
}
