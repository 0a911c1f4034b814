//! 64-bit, time-ordered identifiers in Instagram's layout, and typed wrappers for them.
//!
//! An id is `41 bits of milliseconds since` [`EPOCH_UNIX_MS`] `| 13 bits of worker | 10 bits of
//! sequence`. Sorting ids sorts by creation time, so an id doubles as a sort key, a Redis score and
//! a pagination cursor. In JSON ids are strings: JavaScript loses integers above 2^53.
//!
//! This crate only makes and parses ids; it knows nothing of storage or of the services.

mod generator;
mod typed;

pub use generator::{IdGenerator, WorkerId, WorkerIdOutOfRange};
pub use typed::{parse_decimal_id, CommentId, ParseIdError, PhotoId, SessionId, UploadId, UserId};

/// 2025-01-01T00:00:00Z. 41 bits of milliseconds from here last until the year 2094.
pub const EPOCH_UNIX_MS: u64 = 1_735_689_600_000;

const SEQUENCE_BITS: u32 = 10;
const WORKER_BITS: u32 = 13;
const TIMESTAMP_SHIFT: u32 = SEQUENCE_BITS + WORKER_BITS;
const SEQUENCE_MASK: u64 = (1 << SEQUENCE_BITS) - 1;
const WORKER_MASK: u64 = (1 << WORKER_BITS) - 1;

/// The parts an id is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdParts {
    /// Milliseconds since the Unix epoch.
    pub unix_ms: u64,
    pub worker: u16,
    pub sequence: u16,
}

/// Splits an id back into its creation time, worker and sequence.
pub fn decompose(id: u64) -> IdParts {
    IdParts {
        unix_ms: (id >> TIMESTAMP_SHIFT) + EPOCH_UNIX_MS,
        worker: ((id >> SEQUENCE_BITS) & WORKER_MASK) as u16,
        sequence: (id & SEQUENCE_MASK) as u16,
    }
}

/// Milliseconds since the Unix epoch, now: the one clock services stamp rows and events with.
pub fn unix_ms_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}
