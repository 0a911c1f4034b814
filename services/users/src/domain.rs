//! Values that parse at the edge, so that an invalid username, email or password cannot exist
//! past it (the zero2prod habit). Each parse error is the message the caller sees.
//!
//! No text that reaches the database holds a control character (NUL above all: PostgreSQL
//! cannot store it, and a direct gRPC caller must not be able to turn that into a 500). The
//! gateway refuses them first; these parsers hold the line for any other caller.

/// 3-30 of `a-z 0-9 _ .`, compared case-insensitively: stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, String> {
        let lowered = raw.to_ascii_lowercase();
        let length = lowered.chars().count();
        if !(3..=30).contains(&length) {
            return Err("username must be 3 to 30 characters".to_owned());
        }
        if !lowered
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        {
            return Err("username may contain only letters a-z, digits, '_' and '.'".to_owned());
        }
        Ok(Username(lowered))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a login names: a username or an email address, trimmed and lower-cased as both are
/// stored. `None` for what can name no account (empty, too long, or with control characters),
/// which is answered like a wrong password without touching the database.
pub fn normalize_login(raw: &str) -> Option<String> {
    let login = raw.trim();
    if login.is_empty() || login.len() > Email::MAX_BYTES || has_control(login, false) {
        return None;
    }
    Some(login.to_lowercase())
}

/// Does `raw` hold a control character? Multi-line texts may hold line breaks (`\n`, `\r`),
/// as captions and comments may in their services; nothing may hold any other (tabs included).
pub fn has_control(raw: &str, multiline: bool) -> bool {
    raw.chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r')))
}

/// An address with one `@`, a non-empty local part and a dotted domain. Deliverability is the
/// mail system's business; this only refuses what cannot be an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    as_typed: String,
    normalized: String,
}

impl Email {
    /// The longest address SMTP can carry (RFC 5321).
    pub const MAX_BYTES: usize = 254;

    pub fn parse(raw: &str) -> Result<Email, String> {
        let invalid = || Err("email is not a valid address".to_owned());
        if raw.len() > Email::MAX_BYTES || raw.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return invalid();
        }
        let Some((local, domain)) = raw.split_once('@') else {
            return invalid();
        };
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return invalid();
        }
        Ok(Email {
            as_typed: raw.to_owned(),
            normalized: raw.to_lowercase(),
        })
    }

    pub fn as_typed(&self) -> &str {
        &self.as_typed
    }

    /// Lower-cased: the form used for uniqueness and login.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

/// At least 8 characters. The upper bound only stops absurd inputs from reaching the hasher.
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(raw: &str) -> Result<Password, String> {
        if raw.chars().count() < Password::MIN_CHARS {
            return Err(format!(
                "password must be at least {} characters",
                Password::MIN_CHARS
            ));
        }
        if raw.len() > Password::MAX_BYTES {
            return Err(format!(
                "password must be at most {} bytes",
                Password::MAX_BYTES
            ));
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Free text shown on a profile: a length limit and no control characters (line breaks are
/// allowed where `multiline`).
fn profile_text(
    field: &str,
    raw: &str,
    max_chars: usize,
    multiline: bool,
) -> Result<String, String> {
    if raw.chars().count() > max_chars {
        return Err(format!("{field} must be at most {max_chars} characters"));
    }
    if has_control(raw, multiline) {
        return Err(format!("{field} must not contain control characters"));
    }
    Ok(raw.to_owned())
}

pub const DISPLAY_NAME_MAX_CHARS: usize = 64;
pub const BIO_MAX_CHARS: usize = 150;

pub fn parse_display_name(raw: &str) -> Result<String, String> {
    profile_text("display_name", raw.trim(), DISPLAY_NAME_MAX_CHARS, false)
}

pub fn parse_bio(raw: &str) -> Result<String, String> {
    profile_text("bio", raw, BIO_MAX_CHARS, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lowercased_and_checked() {
        assert_eq!(Username::parse("Alice_B.9").unwrap().as_str(), "alice_b.9");
        for bad in [
            "ab",
            &"a".repeat(31),
            "with space",
            "émile",
            "a-b",
            "semi;colon",
            "",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Username::parse(&"a".repeat(30)).is_ok());
    }

    #[test]
    fn emails_keep_their_spelling_and_normalise_for_lookup() {
        let email = Email::parse("Ann.Lee@Example.COM").unwrap();
        assert_eq!(email.as_typed(), "Ann.Lee@Example.COM");
        assert_eq!(email.normalized(), "ann.lee@example.com");
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@.com",
            "a@com.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn logins_are_normalised_and_impossible_ones_refused() {
        assert_eq!(
            normalize_login("  Ann@Example.COM ").as_deref(),
            Some("ann@example.com")
        );
        assert_eq!(normalize_login("Bob").as_deref(), Some("bob"));
        for impossible in ["", "   ", "a\0b", "a\u{1}", "tab\there", &"x".repeat(255)] {
            assert_eq!(normalize_login(impossible), None, "{impossible:?}");
        }
    }

    #[test]
    fn usernames_with_control_characters_are_not_usernames() {
        for bad in ["ann\0", "\0\0\0", "an\nn", "ann\u{7f}"] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse("ann\0@example.com").is_err());
    }

    #[test]
    fn passwords_need_eight_characters() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        // Characters, not bytes: seven accented letters are still too short.
        assert!(Password::parse("ééééééé").is_err());
        assert!(Password::parse(&"x".repeat(2000)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-pass").unwrap()),
            "Password(***)"
        );
    }

    #[test]
    fn profile_texts_have_limits() {
        assert_eq!(parse_display_name("  Ann  ").unwrap(), "Ann");
        assert!(parse_display_name(&"x".repeat(65)).is_err());
        assert!(parse_display_name("a\nb").is_err());
        assert!(parse_bio("line one\nline two").is_ok());
        assert!(parse_bio("line one\r\nline two").is_ok());
        for bad in ["bell\u{7}x", "nul\0x", "t\tab", "del\u{7f}x", "c1\u{85}x"] {
            assert!(parse_bio(bad).is_err(), "{bad:?}");
            assert!(parse_display_name(bad).is_err(), "{bad:?}");
        }
        assert!(parse_display_name("a\rb").is_err());
        assert!(parse_bio(&"é".repeat(150)).is_ok());
        assert!(parse_bio(&"é".repeat(151)).is_err());
    }
}
