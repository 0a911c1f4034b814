//! The rules of the graph that need no I/O: how big a page, a batch or a stream batch may be,
//! what a cursor is, and which ids a request must carry.
//!
//! Nothing here touches the database, the clock or the network.

/// Page size when the caller asks for none (limit 0).
pub const DEFAULT_PAGE: u32 = 20;
/// Largest page a caller may ask for.
pub const MAX_PAGE: u32 = 50;
/// Most users one `BatchRelationships` call answers for.
pub const MAX_BATCH: usize = 200;
/// Followers per `StreamFollowers` batch when the caller asks for none (batch_size 0).
pub const DEFAULT_STREAM_BATCH: u32 = 1000;
/// Largest `StreamFollowers` batch a caller may ask for.
pub const MAX_STREAM_BATCH: u32 = 10_000;

/// The number of items a page request asks for: 0 means the default, above the maximum is an
/// error (not silently less).
pub fn page_limit(requested: u32) -> Result<u32, String> {
    match requested {
        0 => Ok(DEFAULT_PAGE),
        n if n <= MAX_PAGE => Ok(n),
        n => Err(format!("limit {n} is above {MAX_PAGE}")),
    }
}

/// Followers per streamed batch: 0 means the default, above the maximum is an error.
pub fn stream_batch_size(requested: u32) -> Result<u32, String> {
    match requested {
        0 => Ok(DEFAULT_STREAM_BATCH),
        n if n <= MAX_STREAM_BATCH => Ok(n),
        n => Err(format!("batch_size {n} is above {MAX_STREAM_BATCH}")),
    }
}

/// A cursor this service handed out: the time-ordered id of the last edge (or request) of the
/// previous page, in decimal. Empty means "from the start" (`None`); anything else that is not
/// such an id is an error.
pub fn parse_cursor(cursor: &str) -> Result<Option<u64>, String> {
    if cursor.is_empty() {
        return Ok(None);
    }
    let refused = || "the cursor is not one this API made".to_owned();
    if cursor.len() > 19 || !cursor.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused());
    }
    match cursor.parse::<i64>() {
        Ok(id) if id > 0 => Ok(Some(id as u64)),
        _ => Err(refused()),
    }
}

/// The cursor that continues after the edge (or request) `last_id`.
pub fn cursor_after(last_id: u64) -> String {
    last_id.to_string()
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
    fn page_limits() {
        assert_eq!(page_limit(0), Ok(DEFAULT_PAGE));
        assert_eq!(page_limit(1), Ok(1));
        assert_eq!(page_limit(MAX_PAGE), Ok(MAX_PAGE));
        assert!(page_limit(MAX_PAGE + 1).is_err());
        assert!(page_limit(u32::MAX).is_err());
    }

    #[test]
    fn stream_batch_sizes() {
        assert_eq!(stream_batch_size(0), Ok(DEFAULT_STREAM_BATCH));
        assert_eq!(stream_batch_size(1), Ok(1));
        assert_eq!(stream_batch_size(MAX_STREAM_BATCH), Ok(MAX_STREAM_BATCH));
        assert!(stream_batch_size(MAX_STREAM_BATCH + 1).is_err());
    }

    #[test]
    fn cursors_are_positive_decimal_ids() {
        assert_eq!(parse_cursor(""), Ok(None));
        assert_eq!(parse_cursor("42"), Ok(Some(42)));
        assert_eq!(parse_cursor(&cursor_after(7)), Ok(Some(7)));
        assert_eq!(
            parse_cursor(&cursor_after(i64::MAX as u64)),
            Ok(Some(i64::MAX as u64))
        );
        for bad in [
            "0",
            "-1",
            "+1",
            " 1",
            "1 ",
            "1.5",
            "abc",
            "0x10",
            "9223372036854775808",
            "18446744073709551615",
            "99999999999999999999",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad:?} accepted");
        }
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
