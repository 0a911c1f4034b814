//! Newtypes that keep user, photo, comment, upload and session ids apart, serialised as JSON
//! strings and parsed by [`parse_decimal_id`], the one rule for ids in paths and bodies.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not an id: ids are decimal strings of a 64-bit number")]
pub struct ParseIdError(pub String);

/// An id as the API writes it: plain decimal digits of a 64-bit number. `u64::from_str` alone
/// would also take a leading `+`, which is not an id anyone was given.
pub fn parse_decimal_id(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u64);

        impl $name {
            /// The number inside, for a proto message or a database row.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> $name {
                $name(id)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> u64 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                parse_decimal_id(text).map($name).ok_or_else(|| ParseIdError(text.to_owned()))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

typed_id!(
    /// A person's account.
    UserId
);
typed_id!(
    /// One login: the chain of refresh tokens that rotate from one sign-in.
    SessionId
);
typed_id!(
    /// A photo (a post).
    PhotoId
);
typed_id!(
    /// A comment on a photo.
    CommentId
);
typed_id!(
    /// A reserved upload of image bytes, before it becomes a photo.
    UploadId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_from_canonical_decimal_only() {
        assert_eq!("42".parse::<UserId>(), Ok(UserId(42)));
        assert_eq!(
            "18446744073709551615".parse::<UserId>(),
            Ok(UserId(u64::MAX))
        );
        for bad in ["", "+1", "-1", "1e3", "0x10", "18446744073709551616", " 1"] {
            assert!(bad.parse::<UserId>().is_err(), "{bad:?} parsed");
        }
    }

    /// Moved from the gateway, whose paths and bodies this rule reads.
    #[test]
    fn ids_are_decimal_u64s() {
        assert_eq!(
            parse_decimal_id("1739182374651904"),
            Some(1_739_182_374_651_904)
        );
        assert_eq!(parse_decimal_id("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "+12",
            "-1",
            "12a",
            " 12",
            "0x1f",
            "18446744073709551616",
        ] {
            assert_eq!(parse_decimal_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ids_are_json_strings_both_ways() {
        let id = PhotoId(18_446_744_073_709_551_615);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, r#""18446744073709551615""#);
        assert_eq!(serde_json::from_str::<PhotoId>(&json).unwrap(), id);
        // A JSON number is not an id: JavaScript would already have rounded it.
        assert!(serde_json::from_str::<PhotoId>("42").is_err());
        assert!(serde_json::from_str::<CommentId>(r#""+42""#).is_err());
    }

    #[test]
    fn the_number_inside_comes_out_unchanged() {
        assert_eq!(UploadId::from(7).get(), 7);
        assert_eq!(u64::from(CommentId(u64::MAX)), u64::MAX);
    }

    #[test]
    fn display_and_parse_round_trip() {
        let id = SessionId(1_234_567_890_123);
        assert_eq!(id.to_string().parse::<SessionId>(), Ok(id));
    }
}
