//! How a reader's cache is laid out in Redis: the key names and the encoding of one entry.
//!
//! - `<prefix>feed:{<user>}`: a sorted set of the reader's entries.
//! - `<prefix>feed:{<user>}:meta`: a hash with `state` (`building` | `ready`), `truncated`
//!   (`0` | `1`) and, when truncated, `floor`: the window floor as a padded id (see
//!   `scripts.rs`). The cache exists exactly when this key does: an empty sorted set does not
//!   exist in Redis, so the sorted set can never say whether a cache exists.
//!
//! The braces are a Redis Cluster hash tag: both keys of a reader hash to the same slot, so
//! one script may touch both, atomically, on a cluster too.
//!
//! A member is the post id zero-padded to 20 digits, `:`, the author id; its score is the post
//! id as an `f64`. An `f64` cannot tell neighbouring 64-bit ids apart, but Redis orders equal
//! scores by member bytes, and the padding makes that order numeric: (score, member) order is
//! exactly post id order.

use photoshare_feed_store::FeedEntry;

/// Digits in a padded post id: `u64::MAX` has 20.
pub(crate) const ID_DIGITS: usize = 20;

/// The key names of one deployment (one prefix).
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    /// Rejects a prefix with a brace: Redis Cluster hashes the first `{...}` of a key, so a
    /// brace in the prefix would put every reader in one slot, or split a reader's two keys.
    pub(crate) fn new(prefix: &str) -> Result<Keys, String> {
        if prefix.contains(['{', '}']) {
            return Err(format!(
                "key prefix {prefix:?} must not contain braces (they would change the hash slot)"
            ));
        }
        Ok(Keys {
            prefix: prefix.to_owned(),
        })
    }

    /// The reader's sorted set.
    pub(crate) fn feed(&self, user: u64) -> String {
        format!("{}feed:{{{user}}}", self.prefix)
    }

    /// The reader's meta hash; its existence is the cache's.
    pub(crate) fn meta(&self, user: u64) -> String {
        format!("{}feed:{{{user}}}:meta", self.prefix)
    }
}

/// The sorted-set member of `entry`.
pub(crate) fn member(entry: FeedEntry) -> String {
    format!("{:020}:{}", entry.post_id, entry.author_id)
}

/// The score of a post id: the nearest `f64`, printed as the shortest decimal that reads back
/// as the same double (Rust never uses an exponent here, and Redis parses any decimal). The
/// rounding is monotonic, so a larger id never gets a smaller score.
pub(crate) fn score(post_id: u64) -> String {
    format!("{}", post_id as f64)
}

/// The padded form of a post id, the prefix of its members (the scripts compare ids with it).
pub(crate) fn padded(post_id: u64) -> String {
    format!("{post_id:020}")
}

/// The `:<author>` suffix every member of `author` ends with (the colon makes it exact: author
/// 42 does not match member `...:142`).
pub(crate) fn author_suffix(author: u64) -> String {
    format!(":{author}")
}

/// Reads a member back. `None` for bytes that no version of this crate wrote.
pub(crate) fn parse_member(bytes: &[u8]) -> Option<FeedEntry> {
    let (id, rest) = bytes.split_at_checked(ID_DIGITS)?;
    let author = rest.strip_prefix(b":")?;
    Some(FeedEntry::new(digits(id)?, digits(author)?))
}

/// The window floor stored in the meta: a padded id. It is one above an id, so it may be
/// `u64::MAX + 1` (one above the largest id), which means the same as `u64::MAX` (nothing is
/// at or above it but that one id).
pub(crate) fn parse_floor(bytes: &[u8]) -> Option<u64> {
    if bytes.len() != ID_DIGITS || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let floor: u128 = std::str::from_utf8(bytes).ok()?.parse().ok()?;
    Some(u64::try_from(floor).unwrap_or(u64::MAX))
}

/// A non-empty run of ASCII digits as a `u64` (no sign, no spaces, no overflow).
fn digits(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Redis does with a score string: parse it as a double.
    fn redis_score(post_id: u64) -> f64 {
        score(post_id).parse().unwrap()
    }

    /// Redis's order of sorted-set members: score, then member bytes.
    fn redis_order(a: FeedEntry, b: FeedEntry) -> std::cmp::Ordering {
        redis_score(a.post_id)
            .total_cmp(&redis_score(b.post_id))
            .then_with(|| member(a).as_bytes().cmp(member(b).as_bytes()))
    }

    #[test]
    fn members_round_trip() {
        for entry in [
            FeedEntry::new(0, 0),
            FeedEntry::new(1_234_567_890_123, 42),
            FeedEntry::new(u64::MAX, u64::MAX),
        ] {
            let encoded = member(entry);
            assert_eq!(
                &encoded[..ID_DIGITS + 1],
                format!("{}:", padded(entry.post_id))
            );
            assert_eq!(parse_member(encoded.as_bytes()), Some(entry));
            assert_eq!(
                parse_floor(padded(entry.post_id).as_bytes()),
                Some(entry.post_id)
            );
        }
        assert_eq!(
            member(FeedEntry::new(1_234_567_890_123, 42)),
            "00000001234567890123:42"
        );
    }

    #[test]
    fn foreign_members_are_refused() {
        for bad in [
            &b""[..],
            b"123:4",
            b"0000000000000000001:4",
            b"00000000000000000001",
            b"00000000000000000001:",
            b"00000000000000000001;4",
            b"0000000000000000000x:4",
            b"00000000000000000001:+4",
            b"00000000000000000001:4:5",
            b"99999999999999999999:1",
            b"00000000000000000001:99999999999999999999",
        ] {
            assert_eq!(
                parse_member(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn score_then_member_is_post_id_order() {
        // Ids around where an f64 loses precision, neighbours that share a score, and the ends.
        let base = (300 * 86_400_000u64) << 23;
        let mut ids = vec![0, 1, 2, (1 << 53) - 1, 1 << 53, (1 << 53) + 1, u64::MAX];
        ids.extend((0..40).map(|i| base + i));
        ids.extend((0..40).map(|i| u64::MAX - i));
        assert_eq!(
            redis_score(base),
            redis_score(base + 1),
            "neighbouring ids share a score"
        );
        for &a in &ids {
            for &b in &ids {
                // Authors deliberately against the id order: they must never decide.
                let x = FeedEntry::new(a, 1_000 - a % 1_000);
                let y = FeedEntry::new(b, 1_000 - b % 1_000);
                if a != b {
                    assert_eq!(redis_order(x, y), a.cmp(&b), "{a} vs {b}");
                }
                assert!(
                    redis_score(a) <= redis_score(b) || a > b,
                    "scores never invert the order"
                );
            }
        }
    }

    #[test]
    fn scores_are_plain_decimals() {
        assert_eq!(score(0), "0");
        assert_eq!(score(42), "42");
        // The shortest digits that read back as the same double, padded with zeros.
        assert_eq!(score(u64::MAX), "18446744073709552000");
        let id = ((500 * 86_400_000u64) << 23) | 777;
        assert!(score(id).bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(redis_score(id), id as f64);
        assert_eq!(redis_score(u64::MAX), u64::MAX as f64);
    }

    #[test]
    fn both_keys_of_a_reader_share_a_hash_tag() {
        let keys = Keys::new("t1_").unwrap();
        assert_eq!(keys.feed(42), "t1_feed:{42}");
        assert_eq!(keys.meta(42), "t1_feed:{42}:meta");
        assert_eq!(Keys::new("").unwrap().feed(7), "feed:{7}");
        assert!(Keys::new("a{b}_").is_err());
        assert!(Keys::new("a}").is_err());
    }

    #[test]
    fn floors_parse() {
        assert_eq!(parse_floor(b"00000000000000000042"), Some(42));
        assert_eq!(parse_floor(b"18446744073709551616"), Some(u64::MAX));
        assert_eq!(parse_floor(b"42"), None);
        assert_eq!(parse_floor(b"0000000000000000004x"), None);
        assert_eq!(parse_floor(b"00000000000000000042:1"), None);
    }

    #[test]
    fn author_suffixes_are_exact() {
        let suffix = author_suffix(42);
        assert!(member(FeedEntry::new(5, 42)).ends_with(&suffix));
        assert!(!member(FeedEntry::new(5, 142)).ends_with(&suffix));
        assert!(!member(FeedEntry::new(42, 4)).ends_with(&suffix));
    }
}
