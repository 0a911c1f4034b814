//! The rules of likes and comments that need no I/O: what a comment's text may be, how big a
//! page or a batch may be, and what a cursor is.
//!
//! Nothing here touches the database, the clock or the network.

/// Longest comment, in characters (Unicode scalar values), not bytes.
pub const COMMENT_MAX_CHARS: usize = 2200;
/// Page size when the caller asks for none (limit 0).
pub const DEFAULT_PAGE: u32 = 20;
/// Largest page a caller may ask for.
pub const MAX_PAGE: u32 = 50;
/// Most photos one `BatchPhotoStats` call answers for.
pub const MAX_BATCH: usize = 100;

/// A comment's text, kept exactly as typed: 1..=2200 characters, not only whitespace, and no
/// control characters other than line breaks (`\n`, `\r`).
pub fn parse_comment_text(raw: &str) -> Result<String, String> {
    if raw.trim().is_empty() {
        return Err("text must not be empty".into());
    }
    if raw.chars().count() > COMMENT_MAX_CHARS {
        return Err(format!(
            "text must be at most {COMMENT_MAX_CHARS} characters"
        ));
    }
    if raw
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err("text must not contain control characters".into());
    }
    Ok(raw.to_owned())
}

/// The number of items a page request asks for: 0 means the default, above the maximum is an
/// error (not silently less).
pub fn page_limit(requested: u32) -> Result<u32, String> {
    match requested {
        0 => Ok(DEFAULT_PAGE),
        n if n <= MAX_PAGE => Ok(n),
        n => Err(format!("limit {n} is above {MAX_PAGE}")),
    }
}

/// A cursor this service handed out: the id of the last item of the previous page, in decimal.
/// Empty means "from the start" (`None`); anything else that is not such an id is an error.
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

/// The cursor that continues after `last_id`.
pub fn cursor_after(last_id: u64) -> String {
    last_id.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_text_is_counted_in_characters() {
        assert!(parse_comment_text("x").is_ok());
        assert!(parse_comment_text(&"é".repeat(2200)).is_ok());
        assert!(parse_comment_text(&"é".repeat(2201)).is_err());
        assert!(parse_comment_text(&"a".repeat(2201)).is_err());
        assert!(parse_comment_text("🙂".repeat(2200).as_str()).is_ok());
    }

    #[test]
    fn comment_text_is_not_blank() {
        for blank in ["", " ", "\n\r\n", "\u{3000}\t "] {
            assert!(parse_comment_text(blank).is_err(), "{blank:?}");
        }
    }

    #[test]
    fn comment_text_allows_line_breaks_only() {
        assert_eq!(
            parse_comment_text("two\r\nlines\n").unwrap(),
            "two\r\nlines\n"
        );
        assert_eq!(
            parse_comment_text("  kept as typed ").unwrap(),
            "  kept as typed "
        );
        for bad in ["tab\there", "bell\u{7}", "nul\0", "del\u{7f}", "c1\u{85}"] {
            assert!(parse_comment_text(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn page_limits() {
        assert_eq!(page_limit(0), Ok(DEFAULT_PAGE));
        assert_eq!(page_limit(1), Ok(1));
        assert_eq!(page_limit(MAX_PAGE), Ok(MAX_PAGE));
        assert!(page_limit(MAX_PAGE + 1).is_err());
        assert!(page_limit(u32::MAX).is_err());
    }

    #[test]
    fn cursors_are_positive_decimal_ids() {
        assert_eq!(parse_cursor(""), Ok(None));
        assert_eq!(parse_cursor("42"), Ok(Some(42)));
        assert_eq!(
            parse_cursor(&cursor_after(i64::MAX as u64)),
            Ok(Some(i64::MAX as u64))
        );
        assert_eq!(parse_cursor(&cursor_after(7)), Ok(Some(7)));
        for bad in [
            "0",
            "-1",
            "+1",
            " 1",
            "1 ",
            "abc",
            "1e3",
            "9223372036854775808",
            "18446744073709551615",
            "00000000000000000001",
            "٣",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
