//! Checks on what callers pass in, done before any request so that bad input is an
//! `InvalidInput` error and never a panic, a confusing S3 answer, or a path on the embedded
//! server's disk that AWS would treat differently. Pure functions; no I/O.

use std::time::Duration;

use crate::StorageError;

/// S3's limit on a key's length in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// S3's limit on one PutObject (bigger objects need multipart uploads).
pub const MAX_PUT_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// SigV4's limit on a presigned URL's lifetime.
pub const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A key is 1 to 1024 bytes of `/`-separated segments without control characters, and with no
/// empty, `.` or `..` segment. S3 itself accepts more, but those keys mean something else on a
/// file system (the embedded server's), so both backends refuse them alike.
pub(crate) fn key(key: &str) -> Result<(), StorageError> {
    let invalid = |reason: &str| Err(StorageError::invalid("object key", reason));
    if key.is_empty() {
        return invalid("it is empty");
    }
    if key.len() > MAX_KEY_BYTES {
        return invalid("it is longer than 1024 bytes");
    }
    if key.chars().any(char::is_control) {
        return invalid("it contains a control character");
    }
    if key
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return invalid("it has an empty, `.` or `..` path segment");
    }
    Ok(())
}

/// S3's bucket naming rules (the subset valid in every region): 3 to 63 of lower-case letters,
/// digits, `-` and `.`, starting and ending with a letter or digit, no `..`. The embedded server
/// uses the name as a folder name, so this also keeps it inside its root.
pub(crate) fn bucket(bucket: &str) -> Result<(), StorageError> {
    let invalid = |reason: &str| Err(StorageError::invalid("bucket name", reason));
    if !(3..=63).contains(&bucket.len()) {
        return invalid("it must be 3 to 63 characters long");
    }
    if !bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return invalid("only a-z, 0-9, `-` and `.` are allowed");
    }
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = bucket.as_bytes();
    if !edge_ok(bytes[0]) || !edge_ok(bytes[bytes.len() - 1]) {
        return invalid("it must start and end with a letter or digit");
    }
    if bucket.contains("..") {
        return invalid("it must not contain `..`");
    }
    Ok(())
}

/// A media type such as `image/jpeg`: visible ASCII and spaces, with a `/`, no leading or
/// trailing space. Leading or trailing spaces matter because HTTP strips them from header
/// values, so the value sent would no longer be the value signed.
pub(crate) fn content_type(content_type: &str) -> Result<(), StorageError> {
    let invalid = |reason: &str| Err(StorageError::invalid("content type", reason));
    if content_type.is_empty() || content_type.len() > 255 {
        return invalid("it must be 1 to 255 characters long");
    }
    if !content_type
        .bytes()
        .all(|b| b == b' ' || b.is_ascii_graphic())
    {
        return invalid("only visible ASCII characters and spaces are allowed");
    }
    if content_type.starts_with(' ') || content_type.ends_with(' ') {
        return invalid("it must not start or end with a space");
    }
    if !content_type.contains('/') {
        return invalid("it must look like `type/subtype`");
    }
    Ok(())
}

pub(crate) fn content_length(length: u64) -> Result<i64, StorageError> {
    if length > MAX_PUT_BYTES {
        return Err(StorageError::invalid(
            "content length",
            format!("{length} bytes is over the 5 GiB limit of one upload"),
        ));
    }
    // Cannot fail: MAX_PUT_BYTES fits in an i64.
    i64::try_from(length).map_err(|_| StorageError::invalid("content length", "too large"))
}

/// Presigned URLs count whole seconds; at least one, at most seven days.
pub(crate) fn expiry(expires_in: Duration) -> Result<Duration, StorageError> {
    let whole = Duration::from_secs(expires_in.as_secs());
    if whole.is_zero() {
        return Err(StorageError::invalid(
            "expiry",
            "it must be at least one second",
        ));
    }
    if whole > MAX_PRESIGN_EXPIRY {
        return Err(StorageError::invalid("expiry", "it must be at most 7 days"));
    }
    Ok(whole)
}

/// The HTTP `Range` header value for `len` bytes from `start`.
pub(crate) fn range(start: u64, len: u64) -> Result<String, StorageError> {
    if len == 0 {
        return Err(StorageError::invalid(
            "range",
            "the length must be at least 1",
        ));
    }
    let last = start
        .checked_add(len - 1)
        .ok_or_else(|| StorageError::invalid("range", "it ends past 2^64 bytes"))?;
    Ok(format!("bytes={start}-{last}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for ok in [
            "a",
            "photos/2025/01/abc.jpg",
            "uploads/ü ñ (1).JPG",
            "a.b/..c/d..",
            &"k".repeat(1024),
        ] {
            assert!(key(ok).is_ok(), "{ok:?} should be accepted");
        }
        for bad in [
            "",
            "/leading",
            "trailing/",
            "double//slash",
            "../escape",
            "a/./b",
            "a/..",
            "tab\there",
            "nul\0",
            &"k".repeat(1025),
        ] {
            assert!(
                matches!(key(bad), Err(StorageError::InvalidInput { .. })),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn buckets() {
        for ok in ["abc", "photoshare-media", "my.bucket.1", &"b".repeat(63)] {
            assert!(bucket(ok).is_ok(), "{ok:?} should be accepted");
        }
        for bad in [
            "ab",
            "Upper",
            "-dash",
            "dash-",
            "a..b",
            "under_score",
            "../x",
            &"b".repeat(64),
        ] {
            assert!(bucket(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn content_types() {
        for ok in ["image/jpeg", "image/heic", "text/plain; charset=utf-8"] {
            assert!(content_type(ok).is_ok(), "{ok:?} should be accepted");
        }
        for bad in [
            "",
            "jpeg",
            " image/jpeg",
            "image/jpeg ",
            "image/jpé",
            "a/b\r\nx: y",
        ] {
            assert!(content_type(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn content_lengths() {
        assert_eq!(content_length(0).unwrap(), 0);
        assert_eq!(content_length(MAX_PUT_BYTES).unwrap(), 5_368_709_120);
        assert!(content_length(MAX_PUT_BYTES + 1).is_err());
        assert!(content_length(u64::MAX).is_err());
    }

    #[test]
    fn expiries_are_whole_seconds_up_to_a_week() {
        assert_eq!(
            expiry(Duration::from_millis(1500)).unwrap(),
            Duration::from_secs(1)
        );
        assert_eq!(expiry(MAX_PRESIGN_EXPIRY).unwrap(), MAX_PRESIGN_EXPIRY);
        assert!(expiry(Duration::from_millis(999)).is_err());
        assert!(expiry(MAX_PRESIGN_EXPIRY + Duration::from_secs(1)).is_err());
        assert!(expiry(Duration::MAX).is_err());
    }

    #[test]
    fn ranges_are_inclusive() {
        assert_eq!(range(0, 16).unwrap(), "bytes=0-15");
        assert_eq!(range(10, 1).unwrap(), "bytes=10-10");
        assert!(range(0, 0).is_err());
        assert!(range(u64::MAX, 2).is_err());
        assert_eq!(
            range(u64::MAX, 1).unwrap(),
            format!("bytes={0}-{0}", u64::MAX)
        );
    }
}
