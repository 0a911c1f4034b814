//! The rules of uploads and photos that need no I/O: which types are accepted, how long texts
//! may be, what the caption's hashtags and mentions are, and what the first bytes of an object
//! say it is.

/// The content types API.md accepts, each with the format sniffing must find.
const ACCEPTED: &[(&str, Sniffed)] = &[
    ("image/jpeg", Sniffed::Jpeg),
    ("image/png", Sniffed::Png),
    ("image/webp", Sniffed::Webp),
    ("image/gif", Sniffed::Gif),
    ("image/heic", Sniffed::Heif),
    ("image/heif", Sniffed::Heif),
];

pub const CAPTION_MAX_CHARS: usize = 2200;
pub const ALT_TEXT_MAX_CHARS: usize = 1000;
pub const LOCATION_MAX_CHARS: usize = 200;

/// What the first bytes of a file are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Jpeg,
    Png,
    Webp,
    Gif,
    /// HEIC and HEIF share a container; the brand says which, and both are accepted as either.
    Heif,
}

/// The accepted type a declared content type stands for (parameters and case ignored).
pub fn accepted_type(declared: &str) -> Option<(&'static str, Sniffed)> {
    let essence = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    ACCEPTED
        .iter()
        .find(|(name, _)| *name == essence)
        .map(|(name, sniffed)| (*name, *sniffed))
}

/// Recognises the accepted formats by magic bytes. Anything else (text, SVG, AVIF...) is `None`.
pub fn sniff(head: &[u8]) -> Option<Sniffed> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Sniffed::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Sniffed::Png);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some(Sniffed::Gif);
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(Sniffed::Webp);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let brands = &head[8..head.len().min(64)];
        const HEIF_BRANDS: [&[u8; 4]; 6] = [b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"];
        // AVIF also says mif1 among its brands; its major brand decides.
        if &head[8..12] == b"avif" || &head[8..12] == b"avis" {
            return None;
        }
        if brands
            .chunks(4)
            .any(|brand| HEIF_BRANDS.iter().any(|h| brand == *h))
        {
            return Some(Sniffed::Heif);
        }
    }
    None
}

/// A caption, alt text or location: trimmed of nothing (people format captions), limited in
/// length, free of control characters other than newlines in captions.
pub fn parse_text(field: &str, raw: &str, max_chars: usize) -> Result<String, String> {
    if raw.chars().count() > max_chars {
        return Err(format!("{field} must be at most {max_chars} characters"));
    }
    let multiline = field == "caption";
    if raw
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r')))
    {
        return Err(format!("{field} must not contain control characters"));
    }
    Ok(raw.to_owned())
}

/// `#tags` in a caption: letters, digits and `_` of any script, lower-cased, first occurrence
/// order, no duplicates. A `#` inside a word (`C#`) starts no tag.
pub fn hashtags(caption: &str) -> Vec<String> {
    tokens(caption, '#', |c| c.is_alphanumeric() || c == '_', 100)
}

/// `@mentions` in a caption: usernames (`a-z 0-9 _ .`, 1-30), lower-cased, without a trailing
/// dot (end of sentence). An `@` inside a word (an email address) is no mention.
pub fn mentions(caption: &str) -> Vec<String> {
    tokens(
        caption,
        '@',
        |c| c.is_ascii_alphanumeric() || c == '_' || c == '.',
        30,
    )
    .into_iter()
    .map(|name| name.trim_end_matches('.').to_owned())
    .filter(|name| !name.is_empty())
    .fold(Vec::new(), |mut unique, name| {
        if !unique.contains(&name) {
            unique.push(name);
        }
        unique
    })
}

fn tokens(
    text: &str,
    sigil: char,
    allowed: impl Fn(char) -> bool,
    max_chars: usize,
) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut index = 0;
    while index < chars.len() {
        let starts_token = chars[index] == sigil
            && (index == 0 || !(chars[index - 1].is_alphanumeric() || chars[index - 1] == '_'));
        if !starts_token {
            index += 1;
            continue;
        }
        let start = index + 1;
        let mut end = start;
        while end < chars.len() && allowed(chars[end]) {
            end += 1;
        }
        if end > start && end - start <= max_chars {
            let token: String = chars[start..end].iter().collect::<String>().to_lowercase();
            if !found.contains(&token) {
                found.push(token);
            }
        }
        index = end.max(index + 1);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_are_matched_loosely_and_only_from_the_list() {
        assert_eq!(accepted_type("image/JPEG").map(|t| t.0), Some("image/jpeg"));
        assert_eq!(
            accepted_type("image/png; charset=x").map(|t| t.0),
            Some("image/png")
        );
        assert_eq!(
            accepted_type("image/heif").map(|t| t.1),
            Some(Sniffed::Heif)
        );
        for refused in ["image/avif", "image/svg+xml", "text/plain", "", "image/jpg"] {
            assert!(accepted_type(refused).is_none(), "{refused}");
        }
    }

    #[test]
    fn sniffing_reads_magic_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(Sniffed::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Sniffed::Png));
        assert_eq!(sniff(b"GIF89a\x01\x00"), Some(Sniffed::Gif));
        assert_eq!(sniff(b"RIFF\x10\x00\x00\x00WEBPVP8 "), Some(Sniffed::Webp));
        assert_eq!(
            sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"),
            Some(Sniffed::Heif)
        );
        assert_eq!(
            sniff(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"),
            None
        );
        assert_eq!(sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"hello, this is text"), None);
    }

    #[test]
    fn hashtags_are_found_once_in_order() {
        assert_eq!(
            hashtags("Sunset #Beach #beach #golden_hour! C# is not a tag"),
            ["beach", "golden_hour"]
        );
        assert_eq!(hashtags("#café #東京 ## #"), ["café", "東京"]);
        assert!(hashtags("no tags here").is_empty());
    }

    #[test]
    fn mentions_skip_emails_and_trailing_dots() {
        assert_eq!(
            mentions("with @Ann.Lee and @bob. mail me at x@example.com @ann.lee"),
            ["ann.lee", "bob"]
        );
        assert!(mentions("@ alone").is_empty());
    }

    #[test]
    fn texts_have_limits() {
        assert!(parse_text("caption", &"é".repeat(2200), CAPTION_MAX_CHARS).is_ok());
        assert!(parse_text("caption", &"é".repeat(2201), CAPTION_MAX_CHARS).is_err());
        assert!(parse_text("caption", "two\nlines", CAPTION_MAX_CHARS).is_ok());
        assert!(parse_text("location", "two\nlines", LOCATION_MAX_CHARS).is_err());
        assert!(parse_text("alt_text", "bell\u{7}", ALT_TEXT_MAX_CHARS).is_err());
    }
}
