//! What can go wrong in the graph service, and the API error code each answer carries. Internal
//! causes are logged here and never shown to the caller.

use photoshare_proto::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("{0}")]
    Invalid(String),
    #[error("you cannot follow yourself")]
    CannotFollowSelf,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event outbox: {0}")]
    Events(#[from] photoshare_events::EventError),
}

impl GraphError {
    pub fn code(&self) -> ErrorCode {
        match self {
            GraphError::Invalid(_) => ErrorCode::ValidationFailed,
            GraphError::CannotFollowSelf => ErrorCode::CannotFollowSelf,
            GraphError::NotFound(_) => ErrorCode::NotFound,
            GraphError::Database(_) | GraphError::Events(_) => ErrorCode::Internal,
        }
    }
}

impl From<GraphError> for tonic::Status {
    fn from(error: GraphError) -> tonic::Status {
        let code = error.code();
        if code == ErrorCode::Internal {
            // Our fault: log the cause, tell the caller nothing about our internals.
            tracing::error!(error = %error, "graph service failure");
            return code.status(code.title());
        }
        code.status(error.to_string())
    }
}
