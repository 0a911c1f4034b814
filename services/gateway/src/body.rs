//! JSON request bodies as every handler takes them: [`Body<T>`] reads the body as JSON with
//! `web::Json`'s checks (size limit, content type, malformed JSON, failures as problems),
//! refuses control characters in every string of it, naming the field, and only then reads it
//! into `T` (unknown fields refused). Checking the JSON before `T` reads it means a hostile
//! string is refused for what it is, whatever the field's type (an id, say), and never echoed
//! back in a parse error. Of a name given twice in one object, the last counts (as in most
//! JSON parsers; the gateway is the only one that reads these bodies).
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
use serde_json::Value;

use crate::problem::ApiError;

/// What a [`Body<T>`] may read, and which of its fields are multi-line.
pub trait RequestBody: DeserializeOwned {
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
        let json = web::Json::<Value>::from_request(request, payload);
        Box::pin(async move {
            let json = json.await?.into_inner();
            refuse_control_characters(&json, T::MULTILINE)?;
            let body = serde_json::from_value(json)
                .map_err(|error| ApiError::validation(format!("invalid JSON body: {error}")))?;
            Ok(Body(body))
        })
    }
}

/// 400 `validation_failed` naming the first string field of `body` that holds a control
/// character it may not.
fn refuse_control_characters(body: &Value, multiline: &[&str]) -> Result<(), ApiError> {
    match first_control_character(body, "", multiline) {
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
    use serde_json::json;

    use super::*;

    fn sample(name: &str, caption: &str, tag: &str) -> Value {
        json!({"name": name, "caption": caption, "tags": ["ok", tag], "count": 3, "id": null})
    }

    fn refused_field(body: &Value) -> Option<String> {
        first_control_character(body, "", &["caption"])
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

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        upload_id: photoshare_ids::UploadId,
        text: String,
    }

    impl RequestBody for Probe {
        const MULTILINE: &'static [&'static str] = &["text"];
    }

    /// Through actix, as handlers get it: the strings are checked before the body is typed,
    /// so an id field holding a NUL is refused by name, not as a malformed id.
    #[actix_web::test]
    async fn the_extractor_checks_strings_before_it_types_the_body() {
        use actix_web::test::{call_service, init_service, read_body_json, TestRequest};
        use actix_web::{App, HttpResponse};

        let app = init_service(
            App::new()
                .app_data(web::JsonConfig::default().error_handler(crate::problem::json_error))
                .route(
                    "/probe",
                    web::post().to(|body: Body<Probe>| async move {
                        let probe = body.into_inner();
                        HttpResponse::Ok().body(format!("{} {}", probe.upload_id, probe.text))
                    }),
                ),
        )
        .await;
        let post = |body: Value| {
            TestRequest::post()
                .uri("/probe")
                .set_json(body)
                .to_request()
        };
        let answer = call_service(&app, post(json!({"upload_id": "7", "text": "a\nb"}))).await;
        assert_eq!(answer.status(), 200);
        for (body, field) in [
            (json!({"upload_id": "7\0", "text": "x"}), "upload_id"),
            (json!({"upload_id": "7", "text": "a\0"}), "text"),
        ] {
            let answer = call_service(&app, post(body)).await;
            assert_eq!(answer.status(), 400);
            let problem: Value = read_body_json(answer).await;
            assert_eq!(problem["code"], "validation_failed");
            let detail = problem["detail"].as_str().unwrap();
            assert!(detail.starts_with(&format!("{field} ")), "{detail}");
            assert!(
                !detail.contains('\0'),
                "the hostile text is not echoed: {detail:?}"
            );
        }
        let unknown = call_service(
            &app,
            post(json!({"upload_id": "7", "text": "x", "admin": true})),
        )
        .await;
        assert_eq!(unknown.status(), 400);
        let not_json = TestRequest::post()
            .uri("/probe")
            .insert_header(("content-type", "text/plain"))
            .set_payload("upload_id=7")
            .to_request();
        assert_eq!(call_service(&app, not_json).await.status(), 415);
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
