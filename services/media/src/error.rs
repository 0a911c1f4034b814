//! What can go wrong in the media service, and the API error code each answer carries.

use photoshare_proto::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("only the author may do this")]
    Forbidden,
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedType(String),
    #[error("the object has not been uploaded yet")]
    UploadIncomplete,
    #[error("the upload has expired; start a new one")]
    UploadExpired,
    #[error("{0}")]
    InvalidImage(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event outbox: {0}")]
    Events(#[from] photoshare_events::EventError),
    #[error("object storage: {0}")]
    Storage(#[from] photoshare_storage::StorageError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl MediaError {
    pub fn code(&self) -> ErrorCode {
        match self {
            MediaError::Invalid(_) => ErrorCode::ValidationFailed,
            MediaError::NotFound(_) => ErrorCode::NotFound,
            MediaError::Forbidden => ErrorCode::Forbidden,
            MediaError::TooLarge(_) => ErrorCode::PayloadTooLarge,
            MediaError::UnsupportedType(_) => ErrorCode::UnsupportedMediaType,
            MediaError::UploadIncomplete => ErrorCode::UploadIncomplete,
            MediaError::UploadExpired => ErrorCode::UploadExpired,
            MediaError::InvalidImage(_) => ErrorCode::InvalidImage,
            MediaError::Database(_) | MediaError::Events(_) | MediaError::Corrupt(_) => {
                ErrorCode::Internal
            }
            // Storage trouble is an outage from the caller's point of view.
            MediaError::Storage(_) => ErrorCode::Unavailable,
        }
    }
}

impl From<MediaError> for tonic::Status {
    fn from(error: MediaError) -> tonic::Status {
        let code = error.code();
        if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(error = %error, "media service failure");
            return code.status(code.title());
        }
        code.status(error.to_string())
    }
}
