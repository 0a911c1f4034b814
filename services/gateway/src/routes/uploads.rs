//! `/v1/uploads`: the first step of posting a photo. The gateway never carries image bytes: the
//! app PUTs them straight to object storage with the presigned request answered here, then
//! turns the upload into a photo with `POST /v1/photos`.

use actix_web::{web, HttpRequest, HttpResponse};
use photoshare_proto::media::v1 as pb;

use crate::authn::Caller;
use crate::body::Body;
use crate::idempotency::idempotency_key;
use crate::models::{CreateUploadBody, Upload};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

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
    body: Body<CreateUploadBody>,
) -> Result<HttpResponse, ApiError> {
    let idempotency_key = idempotency_key(&request)?;
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
