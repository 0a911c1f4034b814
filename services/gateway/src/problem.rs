//! Errors as `application/problem+json` (RFC 9457) with photoshare's stable `code`. Every
//! failure a handler can meet becomes an [`ApiError`]; gRPC statuses from the services are
//! translated through the `photoshare-code` they carry.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use photoshare_proto::ErrorCode;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// `Retry-After` of a 503 whose service did not say: most unavailability the gateway meets
/// (a deadline under load, a restarting pod) is over in moments, and clients back off anyway.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 1;

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:photoshare:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable snake_case word to switch on, e.g. `username_taken`.
    pub code: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    /// Seconds, for 429 and busy 503 answers (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Unauthorized, detail)
    }

    pub fn validation(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::ValidationFailed, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::NotFound, detail)
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_: format!("urn:photoshare:problem:{}", self.code.as_str()),
            title: self.code.title().to_owned(),
            status: self.code.http_status(),
            detail: self.detail.clone(),
            code: self.code.as_str().to_owned(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        ));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(self.problem())
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> ApiError {
        let code = ErrorCode::from_status(&status);
        let detail = match code {
            ErrorCode::Internal => {
                tracing::error!(grpc_code = ?status.code(), message = status.message(), "internal service error");
                "something went wrong on our side".to_owned()
            }
            ErrorCode::Unavailable => {
                tracing::warn!(grpc_code = ?status.code(), message = status.message(), "service unavailable");
                "a backend service is unavailable, try again shortly".to_owned()
            }
            _ => status.message().to_owned(),
        };
        // Every 503 says when to come back: what the service said, or a second.
        let retry_after = ErrorCode::retry_after(&status)
            .or((code == ErrorCode::Unavailable).then_some(UNAVAILABLE_RETRY_AFTER_SECS));
        ApiError {
            retry_after,
            ..ApiError::new(code, detail)
        }
    }
}

/// Turns actix's JSON body errors into problems: unknown fields and malformed JSON are the
/// caller's fault (400), too large is 413, and a body that is not JSON at all is 415.
pub fn json_error(
    error: actix_web::error::JsonPayloadError,
    _request: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError;
    let api_error = match &error {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {limit} bytes"),
        ),
        JsonPayloadError::ContentType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonPayloadError::Deserialize(inner) => {
            ApiError::validation(format!("invalid JSON body: {inner}"))
        }
        other => ApiError::validation(format!("unreadable body: {other}")),
    };
    api_error.into()
}

/// Turns path and query extraction errors into 400 problems.
pub fn path_error(
    error: actix_web::error::PathError,
    _request: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::validation(format!("invalid path: {error}")).into()
}

pub fn query_error(
    error: actix_web::error::QueryPayloadError,
    _request: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::validation(format!("invalid query: {error}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_statuses_keep_their_api_code() {
        let error = ApiError::from(ErrorCode::EmailTaken.status("the email is already registered"));
        assert_eq!(error.code, ErrorCode::EmailTaken);
        assert_eq!(error.problem().status, 409);
        assert_eq!(error.problem().code, "email_taken");
    }

    #[test]
    fn a_busy_service_says_when_to_retry() {
        let error = ApiError::from(ErrorCode::Unavailable.status_retry_after("busy", 3));
        let response = error.error_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers().get("retry-after").unwrap(), "3");
        let plain = ApiError::from(tonic::Status::deadline_exceeded("slow"));
        assert_eq!(
            plain.error_response().headers().get("retry-after").unwrap(),
            "1"
        );
        let refused = ApiError::from(ErrorCode::NotFound.status("none"));
        assert!(!refused
            .error_response()
            .headers()
            .contains_key("retry-after"));
    }

    #[test]
    fn internal_details_are_not_shown_to_callers() {
        let error = ApiError::from(tonic::Status::internal("pool timed out on db-7.internal"));
        assert_eq!(error.code, ErrorCode::Internal);
        assert!(!error.detail.contains("db-7"));
        let error = ApiError::from(tonic::Status::unavailable("tcp connect error 10.0.0.7"));
        assert_eq!(error.problem().status, 503);
        assert!(!error.detail.contains("10.0.0.7"));
    }
}
