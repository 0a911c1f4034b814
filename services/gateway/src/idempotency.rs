//! The `Idempotency-Key` header of POST create calls (API.md): a retry with the same key and
//! body answers the first response instead of creating twice. The gateway only reads and checks
//! the header; the service that owns the data keeps the keys where it keeps the data (media for
//! uploads, users for sign-ups, engagement for comments), with the first answer.

use actix_web::http::header::HeaderMap;
use actix_web::HttpRequest;

use crate::problem::ApiError;

const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Longer keys are refused rather than cut, since two long keys sharing a prefix would then
/// collide. 200 is far more than a UUID or any hash needs.
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;

/// The request's `Idempotency-Key`, or empty when there is none (which is what the services
/// read as "no key"); 400 when it is not visible ASCII or too long.
pub fn idempotency_key(request: &HttpRequest) -> Result<String, ApiError> {
    key_of(request.headers())
}

fn key_of(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(String::new());
    };
    let key = value
        .to_str()
        .ok()
        .filter(|key| !key.chars().any(char::is_control))
        .ok_or_else(|| ApiError::validation("Idempotency-Key must be visible ASCII"))?;
    if key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS {
        return Err(ApiError::validation(format!(
            "Idempotency-Key is longer than {MAX_IDEMPOTENCY_KEY_CHARS} characters"
        )));
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};
    use photoshare_proto::ErrorCode;

    use super::*;

    fn headers(value: Option<&[u8]>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert(
                HeaderName::from_static(IDEMPOTENCY_KEY),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn an_absent_key_is_empty() {
        assert_eq!(key_of(&headers(None)).unwrap(), "");
    }

    #[test]
    fn keys_up_to_200_characters_pass_unchanged() {
        let key = "k".repeat(200);
        assert_eq!(key_of(&headers(Some(key.as_bytes()))).unwrap(), key);
        assert_eq!(
            key_of(&headers(Some(b"3f2b-retry 1"))).unwrap(),
            "3f2b-retry 1"
        );
    }

    #[test]
    fn longer_or_non_ascii_keys_are_refused() {
        let long = "k".repeat(201);
        let error = key_of(&headers(Some(long.as_bytes()))).unwrap_err();
        assert_eq!(error.code, ErrorCode::ValidationFailed);
        let error = key_of(&headers(Some("clé".as_bytes()))).unwrap_err();
        assert_eq!(error.code, ErrorCode::ValidationFailed);
        let error = key_of(&headers(Some(b"tab\there"))).unwrap_err();
        assert_eq!(error.code, ErrorCode::ValidationFailed);
    }
}
