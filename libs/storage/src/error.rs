//! The one error type of this crate. `NotFound` is its own variant because callers branch on
//! it (a missing upload is a client mistake, not an outage); everything else carries enough
//! context to log, and must not be shown to API callers as is.

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The object does not exist. (A HEAD answer has no body, so a missing bucket reads the
    /// same there.)
    #[error("no object `{key}`")]
    NotFound { key: String },
    /// The caller passed something S3 would refuse (an empty key, a bad content type, an expiry
    /// over seven days, ...). Checked before any request is sent.
    #[error("invalid {what}: {reason}")]
    InvalidInput { what: &'static str, reason: String },
    /// The settings cannot make a working client or server.
    #[error("invalid storage settings: {0}")]
    Config(String),
    /// S3 answered with an error, or could not be reached. `status` is the HTTP status when
    /// there was an answer.
    #[error("{operation} `{key}` failed{}: {message}", status.map(|s| format!(" ({s})")).unwrap_or_default())]
    Request {
        operation: &'static str,
        key: String,
        status: Option<u16>,
        message: String,
    },
    /// The embedded server could not use its folder or its address.
    #[error("cannot {action} {target}: {source}")]
    Io {
        action: &'static str,
        target: String,
        #[source]
        source: std::io::Error,
    },
}

impl StorageError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::NotFound { .. })
    }

    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> StorageError {
        StorageError::InvalidInput {
            what,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_errors_show_the_status_when_there_is_one() {
        let with = StorageError::Request {
            operation: "GetObject",
            key: "a".into(),
            status: Some(503),
            message: "slow down".into(),
        };
        assert_eq!(with.to_string(), "GetObject `a` failed (503): slow down");
        let without = StorageError::Request {
            operation: "GetObject",
            key: "a".into(),
            status: None,
            message: "connection refused".into(),
        };
        assert_eq!(
            without.to_string(),
            "GetObject `a` failed: connection refused"
        );
    }
}
