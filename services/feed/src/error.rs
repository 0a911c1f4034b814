//! What can go wrong in the feed, and what the caller (gRPC) or the consumer (retry or
//! dead-letter) makes of it.

use photoshare_events::HandlerError;
use photoshare_feed_store::StoreError;
use photoshare_proto::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("graph service: {}", .0.message())]
    Graph(#[from] tonic::Status),
}

impl From<FeedError> for tonic::Status {
    fn from(error: FeedError) -> tonic::Status {
        match error {
            FeedError::Invalid(message) => ErrorCode::ValidationFailed.status(message),
            other => {
                // Our dependencies' trouble: log it, tell the caller only that it is temporary.
                tracing::error!(error = %other, "feed failure");
                let code = ErrorCode::Unavailable;
                code.status(code.title())
            }
        }
    }
}

impl From<FeedError> for HandlerError {
    /// Stores and the graph come back: retry. Only malformed events are poison, and those are
    /// found before any of this runs.
    fn from(error: FeedError) -> HandlerError {
        HandlerError::Transient(error.to_string())
    }
}
