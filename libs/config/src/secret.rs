//! Values that must never reach a log line: [`Secret`] for passwords, and [`redact_url`] for the
//! server URLs that may carry a password in their user info.

use std::fmt;

use serde::Deserialize;

/// A string that is printed as `***` by `Debug` and `Display`, so a configuration dumped into a
/// log or an error message never shows it. [`Secret::expose`] hands the value to the one place
/// that needs it (the client that authenticates with it).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself: pass it to the client that needs it, never to a formatter.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `url` with the password of its user info (`scheme://user:password@host`) replaced by `***`;
/// anything else is kept as it is. Works on URLs no parser accepts, such as
/// `redis+cluster://:pw@h1:6379,h2:6379`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|at| at + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_len].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some(***)");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn a_secret_reads_from_toml_as_a_plain_string() {
        #[derive(Deserialize)]
        struct File {
            password: Secret,
        }
        let file: File = toml::from_str("password = \"hunter2\"").unwrap();
        assert_eq!(file.password.expose(), "hunter2");
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:pw@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(
            redact_url("redis+cluster://:pw@h1:6379,h2:6379"),
            "redis+cluster://:***@h1:6379,h2:6379"
        );
        assert_eq!(redact_url("rediss://user@h:6379"), "rediss://user@h:6379");
        assert_eq!(redact_url("postgres://h:5432"), "postgres://h:5432");
        assert_eq!(redact_url("h1:9092,h2:9092"), "h1:9092,h2:9092");
        // An `@` after the authority is not user info.
        assert_eq!(redact_url("http://h/a:b@c"), "http://h/a:b@c");
    }
}
