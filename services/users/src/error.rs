//! What can go wrong in the users service, and the API error code each answer carries.

use photoshare_proto::ErrorCode;

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
        code.status(error.to_string())
    }
}
