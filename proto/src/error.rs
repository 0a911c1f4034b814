//! The stable error codes of photoshare, mapped both to gRPC status codes and to HTTP statuses.
//!
//! A service answers a failed call with a `tonic::Status` built by [`ErrorCode::status`]; the
//! code word travels in the `photoshare-code` metadata entry because several API codes share a
//! gRPC code (`username_taken` and `email_taken` are both `AlreadyExists`). The gateway reads it
//! back with [`ErrorCode::from_status`] and answers with the matching HTTP status.

use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

/// The metadata key carrying the code word on an error status.
pub const CODE_METADATA_KEY: &str = "photoshare-code";

/// The metadata key carrying, on a busy or rate-limited answer, the seconds after which a retry
/// may succeed; the gateway sends it on as `Retry-After`.
pub const RETRY_AFTER_METADATA_KEY: &str = "retry-after";

/// Every error code the REST API can answer with (see API.md, "Error codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    ValidationFailed,
    Unauthorized,
    Forbidden,
    PrivateAccount,
    NotFound,
    MethodNotAllowed,
    UsernameTaken,
    EmailTaken,
    UploadIncomplete,
    UploadExpired,
    PayloadTooLarge,
    UnsupportedMediaType,
    InvalidImage,
    CannotFollowSelf,
    /// An `Idempotency-Key` sent again with a different request.
    IdempotencyKeyReused,
    RateLimited,
    Unavailable,
    /// Our fault, never the caller's. The detail is not shown to the caller.
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 18] = [
        ErrorCode::ValidationFailed,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::PrivateAccount,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::UsernameTaken,
        ErrorCode::EmailTaken,
        ErrorCode::UploadIncomplete,
        ErrorCode::UploadExpired,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::InvalidImage,
        ErrorCode::CannotFollowSelf,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    /// The snake_case word that appears as `code` in problem+json bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::PrivateAccount => "private_account",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::UsernameTaken => "username_taken",
            ErrorCode::EmailTaken => "email_taken",
            ErrorCode::UploadIncomplete => "upload_incomplete",
            ErrorCode::UploadExpired => "upload_expired",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidImage => "invalid_image",
            ErrorCode::CannotFollowSelf => "cannot_follow_self",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    pub fn parse(word: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == word)
    }

    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::ValidationFailed => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden | ErrorCode::PrivateAccount => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::UsernameTaken | ErrorCode::EmailTaken | ErrorCode::UploadIncomplete => 409,
            ErrorCode::UploadExpired => 410,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::InvalidImage
            | ErrorCode::CannotFollowSelf
            | ErrorCode::IdempotencyKeyReused => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }

    /// A short human title for problem+json.
    pub fn title(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "The request is not valid",
            ErrorCode::Unauthorized => "Authentication is required",
            ErrorCode::Forbidden => "This is not allowed for you",
            ErrorCode::PrivateAccount => "This account is private",
            ErrorCode::NotFound => "Not found",
            ErrorCode::MethodNotAllowed => "Method not allowed",
            ErrorCode::UsernameTaken => "The username is taken",
            ErrorCode::EmailTaken => "The email is already registered",
            ErrorCode::UploadIncomplete => "The upload is not complete",
            ErrorCode::UploadExpired => "The upload has expired",
            ErrorCode::PayloadTooLarge => "The payload is too large",
            ErrorCode::UnsupportedMediaType => "The media type is not supported",
            ErrorCode::InvalidImage => "The image is not valid",
            ErrorCode::CannotFollowSelf => "You cannot follow yourself",
            ErrorCode::IdempotencyKeyReused => "The Idempotency-Key was used for another request",
            ErrorCode::RateLimited => "Too many requests",
            ErrorCode::Unavailable => "The service is unavailable",
            ErrorCode::Internal => "Internal error",
        }
    }

    pub fn grpc_code(self) -> Code {
        match self {
            ErrorCode::ValidationFailed
            | ErrorCode::PayloadTooLarge
            | ErrorCode::UnsupportedMediaType
            | ErrorCode::InvalidImage
            | ErrorCode::CannotFollowSelf => Code::InvalidArgument,
            ErrorCode::Unauthorized => Code::Unauthenticated,
            ErrorCode::Forbidden | ErrorCode::PrivateAccount => Code::PermissionDenied,
            ErrorCode::NotFound => Code::NotFound,
            ErrorCode::MethodNotAllowed => Code::Unimplemented,
            ErrorCode::UsernameTaken | ErrorCode::EmailTaken => Code::AlreadyExists,
            ErrorCode::UploadIncomplete
            | ErrorCode::UploadExpired
            | ErrorCode::IdempotencyKeyReused => Code::FailedPrecondition,
            ErrorCode::RateLimited => Code::ResourceExhausted,
            ErrorCode::Unavailable => Code::Unavailable,
            ErrorCode::Internal => Code::Internal,
        }
    }

    /// A gRPC status that carries this code word in its metadata.
    pub fn status(self, message: impl Into<String>) -> Status {
        let mut status = Status::new(self.grpc_code(), message);
        status
            .metadata_mut()
            .insert(CODE_METADATA_KEY, MetadataValue::from_static(self.as_str()));
        status
    }

    /// [`ErrorCode::status`] that also says when to retry (`Retry-After`, in whole seconds).
    pub fn status_retry_after(self, message: impl Into<String>, seconds: u64) -> Status {
        let mut status = self.status(message);
        if let Ok(value) = MetadataValue::try_from(seconds.to_string()) {
            status
                .metadata_mut()
                .insert(RETRY_AFTER_METADATA_KEY, value);
        }
        status
    }

    /// The seconds after which a retry may succeed, if the status says.
    pub fn retry_after(status: &Status) -> Option<u64> {
        status
            .metadata()
            .get(RETRY_AFTER_METADATA_KEY)?
            .to_str()
            .ok()?
            .parse()
            .ok()
    }

    /// Reads the code back from a status. A status without our metadata (a transport failure,
    /// a deadline, a peer that is not ours) is classified by its gRPC code alone.
    pub fn from_status(status: &Status) -> ErrorCode {
        let word = status
            .metadata()
            .get(CODE_METADATA_KEY)
            .and_then(|value| value.to_str().ok());
        if let Some(code) = word.and_then(ErrorCode::parse) {
            return code;
        }
        match status.code() {
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => ErrorCode::Unavailable,
            Code::Unauthenticated => ErrorCode::Unauthorized,
            Code::NotFound => ErrorCode::NotFound,
            _ => ErrorCode::Internal,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_survives_a_trip_through_a_grpc_status() {
        for code in ErrorCode::ALL {
            let status = code.status("detail");
            assert_eq!(ErrorCode::from_status(&status), code, "{code}");
            assert_eq!(status.code(), code.grpc_code());
        }
    }

    #[test]
    fn code_words_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let word = code.as_str();
            assert!(seen.insert(word), "duplicate word {word}");
            assert!(word.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert_eq!(ErrorCode::parse(word), Some(code));
        }
    }

    #[test]
    fn foreign_statuses_are_classified_by_grpc_code() {
        assert_eq!(
            ErrorCode::from_status(&Status::unavailable("connection refused")),
            ErrorCode::Unavailable
        );
        assert_eq!(
            ErrorCode::from_status(&Status::deadline_exceeded("slow")),
            ErrorCode::Unavailable
        );
        assert_eq!(
            ErrorCode::from_status(&Status::unknown("?")),
            ErrorCode::Internal
        );
    }

    #[test]
    fn retry_after_travels_with_the_status() {
        let status = ErrorCode::Unavailable.status_retry_after("busy", 2);
        assert_eq!(ErrorCode::from_status(&status), ErrorCode::Unavailable);
        assert_eq!(ErrorCode::retry_after(&status), Some(2));
        assert_eq!(
            ErrorCode::retry_after(&ErrorCode::Unavailable.status("x")),
            None
        );
    }

    #[test]
    fn api_statuses_match_the_contract() {
        assert_eq!(ErrorCode::UsernameTaken.http_status(), 409);
        assert_eq!(ErrorCode::UploadExpired.http_status(), 410);
        assert_eq!(ErrorCode::CannotFollowSelf.http_status(), 422);
        assert_eq!(ErrorCode::IdempotencyKeyReused.http_status(), 422);
        assert_eq!(ErrorCode::RateLimited.http_status(), 429);
        assert_eq!(ErrorCode::Unavailable.http_status(), 503);
    }
}
