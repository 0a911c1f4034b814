//! The rules of likes and comments that need no I/O: what a comment's text may be and how big
//! a batch may be. Pages and cursors follow `photoshare_proto::page`.
//!
//! Nothing here touches the database, the clock or the network.

/// Longest comment, in characters (Unicode scalar values), not bytes.
pub const COMMENT_MAX_CHARS: usize = 2200;
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
}
