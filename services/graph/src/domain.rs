//! The rules of the graph that need no I/O: how big a batch or a stream batch may be, and
//! which ids a request must carry. Pages and cursors follow `photoshare_proto::page`.
//!
//! Nothing here touches the database, the clock or the network.

/// Most users one `BatchRelationships` call answers for.
pub const MAX_BATCH: usize = 200;
/// Followers per `StreamFollowers` batch when the caller asks for none (batch_size 0).
pub const DEFAULT_STREAM_BATCH: u32 = 1000;
/// Largest `StreamFollowers` batch a caller may ask for.
pub const MAX_STREAM_BATCH: u32 = 10_000;

/// Followers per streamed batch: 0 means the default, above the maximum is an error.
pub fn stream_batch_size(requested: u32) -> Result<u32, String> {
    match requested {
        0 => Ok(DEFAULT_STREAM_BATCH),
        n if n <= MAX_STREAM_BATCH => Ok(n),
        n => Err(format!("batch_size {n} is above {MAX_STREAM_BATCH}")),
    }
}

/// A user id the request must carry: 0 is proto3's "not set".
pub fn require_user(field: &str, id: u64) -> Result<u64, String> {
    if id == 0 {
        Err(format!("{field} is required"))
    } else {
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_batch_sizes() {
        assert_eq!(stream_batch_size(0), Ok(DEFAULT_STREAM_BATCH));
        assert_eq!(stream_batch_size(1), Ok(1));
        assert_eq!(stream_batch_size(MAX_STREAM_BATCH), Ok(MAX_STREAM_BATCH));
        assert!(stream_batch_size(MAX_STREAM_BATCH + 1).is_err());
    }

    #[test]
    fn zero_is_a_missing_user() {
        assert_eq!(require_user("user_id", 5), Ok(5));
        assert_eq!(
            require_user("user_id", 0),
            Err("user_id is required".to_owned())
        );
    }
}
