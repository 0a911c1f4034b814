//! What can go wrong in the users service, and the API error code each answer carries.

use photoshare_proto::ErrorCode;

/// What a caller refused by a full hashing queue is told to wait. The queue drains in well
/// under a second at full load (32 waiting / 4 running × tens of milliseconds each).
const BUSY_RETRY_AFTER_SECS: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("{0}")]
    Invalid(String),
    #[error("the username is taken")]
    UsernameTaken,
    #[error("the email is already registered")]
    EmailTaken,
    #[error("wrong login or password")]
    BadCredentials,
    #[error("the refresh token is not valid")]
    InvalidRefreshToken,
    #[error("no such user")]
    NotFound,
    #[error("too many password checks at once, retry in a moment")]
    Busy,
    #[error("this Idempotency-Key was used for a sign-up with another password or display name")]
    IdempotencyKeyReused,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("password hashing: {0}")]
    Hashing(String),
    #[error("token signing: {0}")]
    Signing(#[from] photoshare_auth::KeyError),
}

impl UsersError {
    pub fn code(&self) -> ErrorCode {
        match self {
            UsersError::Invalid(_) => ErrorCode::ValidationFailed,
            UsersError::UsernameTaken => ErrorCode::UsernameTaken,
            UsersError::EmailTaken => ErrorCode::EmailTaken,
            UsersError::BadCredentials | UsersError::InvalidRefreshToken => ErrorCode::Unauthorized,
            UsersError::NotFound => ErrorCode::NotFound,
            UsersError::Busy => ErrorCode::Unavailable,
            UsersError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            UsersError::Database(_) | UsersError::Hashing(_) | UsersError::Signing(_) => {
                ErrorCode::Internal
            }
        }
    }
}

impl From<UsersError> for tonic::Status {
    fn from(error: UsersError) -> tonic::Status {
        let code = error.code();
        if code == ErrorCode::Internal {
            // Our fault: log the cause, tell the caller nothing about our internals.
            tracing::error!(error = %error, "users service failure");
            return code.status("internal error");
        }
        if let UsersError::Busy = error {
            return code.status_retry_after(error.to_string(), BUSY_RETRY_AFTER_SECS);
        }
        code.status(error.to_string())
    }
}
