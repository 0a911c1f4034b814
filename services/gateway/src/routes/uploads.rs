//! `/v1/uploads`: the first step of posting a photo. The gateway never carries image bytes: the
//! app PUTs them straight to object storage with the presigned request answered here, then
//! turns the upload into a photo with `POST /v1/photos`.

use actix_web::http::header::HeaderMap;
use actix_web::{web, HttpRequest, HttpResponse};
use photoshare_proto::media::v1 as pb;

use crate::authn::Caller;
use crate::models::{CreateUploadBody, Upload};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Longer keys are refused rather than cut, since two long keys sharing a prefix would then
/// collide. 200 is far more than a UUID or any hash needs.
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;

/// Reserve an upload and get a presigned PUT for the image bytes. With `Idempotency-Key`, a
/// retry answers the same upload instead of reserving a second one.
#[utoipa::path(post, path = "/v1/uploads", tag = "uploads", security(("bearer" = [])), request_body = CreateUploadBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Client-chosen, at most 200 characters; a retry with the same key and body answers the first upload")),
    responses(
        (status = 201, description = "PUT the bytes to `url` with exactly `headers` before `expires_at`", body = Upload),
        (status = 400, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: `content_length` is above the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: `content_type` is not an accepted image type", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_upload(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    body: web::Json<CreateUploadBody>,
) -> Result<HttpResponse, ApiError> {
    let idempotency_key = idempotency_key(request.headers())?;
    let body = body.into_inner();
    let upload = state
        .media
        .clone()
        .create_upload(pb::CreateUploadRequest {
            user_id: caller.user_id.get(),
            content_type: body.content_type,
            content_length: body.content_length,
            idempotency_key,
        })
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(Upload::from_proto(upload)))
}

/// The `Idempotency-Key` header, or empty when there is none (which is what the media service
/// reads as "no key").
fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(String::new());
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::validation("Idempotency-Key must be visible ASCII"))?;
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
        assert_eq!(idempotency_key(&headers(None)).unwrap(), "");
    }

    #[test]
    fn keys_up_to_200_characters_pass_unchanged() {
        let key = "k".repeat(200);
        assert_eq!(
            idempotency_key(&headers(Some(key.as_bytes()))).unwrap(),
            key
        );
        assert_eq!(
            idempotency_key(&headers(Some(b"3f2b-retry 1"))).unwrap(),
            "3f2b-retry 1"
        );
    }

    #[test]
    fn longer_or_non_ascii_keys_are_refused() {
        let long = "k".repeat(201);
        let error = idempotency_key(&headers(Some(long.as_bytes()))).unwrap_err();
        assert_eq!(error.code, ErrorCode::ValidationFailed);
        let error = idempotency_key(&headers(Some("clé".as_bytes()))).unwrap_err();
        assert_eq!(error.code, ErrorCode::ValidationFailed);
    }
}
