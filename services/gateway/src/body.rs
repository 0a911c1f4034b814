//! JSON request bodies as every handler takes them: [`Body<T>`] reads the body exactly like
//! `web::Json<T>` (size limit, content type, unknown fields refused, failures as problems), and
//! then refuses control characters in every string field of it, naming the field.
//!
//! Control characters have no business in usernames, emails, captions or comments, and NUL in
//! particular cannot be stored by PostgreSQL: it would turn bad input into a 500. The rule:
//! multi-line texts (a bio, a caption, a comment) may hold line breaks, `\n` and `\r`; no
//! string may hold any other control character (C0, DEL, C1), tabs included. The services'
//! own parsers apply the same rule behind the gateway.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::problem::ApiError;

/// A request body type. It is `Serialize` only so that its strings can be walked, whatever its
/// fields are: no field escapes the check because someone forgot to list it.
pub trait RequestBody: DeserializeOwned + Serialize {
    /// The fields that may hold line breaks.
    const MULTILINE: &'static [&'static str] = &[];
}

/// A JSON body of type `T`, checked for control characters.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T> Body<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: RequestBody + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Body<T>, actix_web::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let json = web::Json::<T>::from_request(request, payload);
        Box::pin(async move {
            let body = json.await?.into_inner();
            refuse_control_characters(&body, T::MULTILINE)?;
            Ok(Body(body))
        })
    }
}

/// 400 `validation_failed` naming the first string field of `body` that holds a control
/// character it may not.
fn refuse_control_characters<T: Serialize>(body: &T, multiline: &[&str]) -> Result<(), ApiError> {
    let value = serde_json::to_value(body)
        .map_err(|error| ApiError::validation(format!("unreadable body: {error}")))?;
    match first_control_character(&value, "", multiline) {
        Some(field) => Err(ApiError::validation(format!(
            "{field} must not contain control characters{}",
            if multiline.contains(&field.as_str()) {
                " other than line breaks"
            } else {
                ""
            }
        ))),
        None => Ok(()),
    }
}

/// The path (`caption`, `items[2].name`) of the first string under `value` that holds a
/// forbidden control character. `multiline` names top-level fields that may hold line breaks.
fn first_control_character(value: &Value, path: &str, multiline: &[&str]) -> Option<String> {
    match value {
        Value::String(text) => {
            has_control(text, multiline.contains(&path)).then(|| path.to_owned())
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            first_control_character(item, &format!("{path}[{index}]"), multiline)
        }),
        Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            let path = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            first_control_character(item, &path, multiline)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// Does `text` hold a control character, other than line breaks where they are allowed?
pub fn has_control(text: &str, line_breaks_allowed: bool) -> bool {
    text.chars()
        .any(|c| c.is_control() && !(line_breaks_allowed && (c == '\n' || c == '\r')))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Serialize, Deserialize)]
    struct Sample {
        name: String,
        caption: Option<String>,
        tags: Vec<String>,
        count: u32,
    }

    fn sample(name: &str, caption: &str, tag: &str) -> Sample {
        Sample {
            name: name.to_owned(),
            caption: Some(caption.to_owned()),
            tags: vec!["ok".to_owned(), tag.to_owned()],
            count: 3,
        }
    }

    fn refused_field(body: &Sample) -> Option<String> {
        let value = serde_json::to_value(body).unwrap();
        first_control_character(&value, "", &["caption"])
    }

    #[test]
    fn clean_bodies_and_line_breaks_in_multiline_fields_pass() {
        assert_eq!(refused_field(&sample("ann", "two\r\nlines\n", "x")), None);
        assert!(refuse_control_characters(&sample("ann", "fine", "é🙂"), &["caption"]).is_ok());
    }

    #[test]
    fn the_refusal_names_the_field() {
        assert_eq!(
            refused_field(&sample("a\0b", "", "")).as_deref(),
            Some("name")
        );
        assert_eq!(
            refused_field(&sample("ann", "tab\there", "")).as_deref(),
            Some("caption")
        );
        assert_eq!(
            refused_field(&sample("ann", "", "\u{7f}")).as_deref(),
            Some("tags[1]")
        );
        assert_eq!(
            refused_field(&sample("a\nb", "", "")).as_deref(),
            Some("name"),
            "one line only"
        );
        let error =
            refuse_control_characters(&sample("ann", "nul\0", ""), &["caption"]).unwrap_err();
        assert_eq!(error.code, photoshare_proto::ErrorCode::ValidationFailed);
        assert!(error.detail.starts_with("caption "), "{}", error.detail);
    }

    #[test]
    fn every_kind_of_control_character_counts() {
        for c in ['\0', '\u{1}', '\t', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}'] {
            assert!(has_control(&format!("a{c}b"), true), "{c:?}");
        }
        assert!(!has_control("a\r\nb", true));
        assert!(has_control("a\r\nb", false));
        assert!(!has_control("zero\u{200b}width and emoji 🙂", false));
    }
}
