//! What can go wrong in the engagement service, and the API error code each answer carries.
//!
//! Internal causes (database, outbox) are logged here and never reach the caller.

use photoshare_proto::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum EngagementError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("only the comment's author or the photo's author may delete it")]
    Forbidden,
    #[error("this Idempotency-Key was used for a comment on another photo or with another text")]
    IdempotencyKeyReused,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event outbox: {0}")]
    Events(#[from] photoshare_events::EventError),
}

impl EngagementError {
    pub fn code(&self) -> ErrorCode {
        match self {
            EngagementError::Invalid(_) => ErrorCode::ValidationFailed,
            EngagementError::NotFound(_) => ErrorCode::NotFound,
            EngagementError::Forbidden => ErrorCode::Forbidden,
            EngagementError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            EngagementError::Database(_) | EngagementError::Events(_) => ErrorCode::Internal,
        }
    }
}

impl From<EngagementError> for tonic::Status {
    fn from(error: EngagementError) -> tonic::Status {
        let code = error.code();
        if code == ErrorCode::Internal {
            // Our fault: log the cause, tell the caller nothing about our internals.
            tracing::error!(error = %error, "engagement service failure");
            return code.status(code.title());
        }
        code.status(error.to_string())
    }
}
