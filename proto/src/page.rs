//! Keyset pagination as every service does it: a page request carries an opaque cursor (the
//! decimal id of the last item of the previous page, time-ordered ids making that a position)
//! and a limit; a service reads `limit + 1` items to learn whether a next page exists.

use crate::common::v1::PageRequest;

/// Items per page when the request says 0.
pub const DEFAULT_LIMIT: u32 = 20;
/// Most items per page (API.md: 1..=50). More is an error, not silently fewer.
pub const MAX_LIMIT: u32 = 50;

/// A checked page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The id after which (in the list's order) the page starts; `None` from the start.
    pub after: Option<u64>,
    pub limit: u32,
}

impl Page {
    /// Checks a request; the error is the message for the caller.
    pub fn parse(request: Option<&PageRequest>) -> Result<Page, String> {
        let (cursor, limit) = request.map_or(("", 0), |r| (r.cursor.as_str(), r.limit));
        Ok(Page {
            after: parse_cursor(cursor)?,
            limit: page_limit(limit)?,
        })
    }
}

/// 0 means the default; above the maximum is an error.
pub fn page_limit(requested: u32) -> Result<u32, String> {
    match requested {
        0 => Ok(DEFAULT_LIMIT),
        n if n <= MAX_LIMIT => Ok(n),
        n => Err(format!("limit {n} is above {MAX_LIMIT}")),
    }
}

/// A cursor a service handed out; empty means "from the start". Anything else is refused.
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

/// The cursor that continues after the item with id `last_id`.
pub fn cursor_after(last_id: u64) -> String {
    last_id.to_string()
}

/// `items` were read with `limit + 1`: drops the extra one and returns the cursor after the last
/// item kept, or an empty string when there is no next page.
pub fn next_cursor<T>(items: &mut Vec<T>, limit: u32, id: impl Fn(&T) -> u64) -> String {
    if items.len() <= limit as usize {
        return String::new();
    }
    items.truncate(limit as usize);
    items
        .last()
        .map(|item| cursor_after(id(item)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_cap() {
        assert_eq!(page_limit(0), Ok(DEFAULT_LIMIT));
        assert_eq!(page_limit(50), Ok(50));
        assert!(page_limit(51).is_err());
    }

    #[test]
    fn cursors_are_positive_decimal_ids_only() {
        assert_eq!(parse_cursor(""), Ok(None));
        assert_eq!(parse_cursor("42"), Ok(Some(42)));
        for bad in [
            "0",
            "-1",
            "+1",
            "1e3",
            "abc",
            "99999999999999999999",
            "9223372036854775808",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_request_is_checked_whole() {
        assert_eq!(
            Page::parse(None),
            Ok(Page {
                after: None,
                limit: DEFAULT_LIMIT
            })
        );
        let request = PageRequest {
            cursor: "7".into(),
            limit: 3,
        };
        assert_eq!(
            Page::parse(Some(&request)),
            Ok(Page {
                after: Some(7),
                limit: 3
            })
        );
    }

    #[test]
    fn the_extra_item_means_a_next_page() {
        let mut items = vec![9, 8, 7, 6];
        assert_eq!(next_cursor(&mut items, 3, |id| *id), "7");
        assert_eq!(items, [9, 8, 7]);
        let mut last_page = vec![5, 4];
        assert_eq!(next_cursor(&mut last_page, 3, |id| *id), "");
    }
}
