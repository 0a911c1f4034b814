//! What can stop a service from starting or make it fail while it serves.

use photoshare_config::ConfigError;
use photoshare_db::DbError;
use photoshare_events::EventError;
use photoshare_feed_store::StoreError;
use photoshare_ids::WorkerIdOutOfRange;
use photoshare_storage::StorageError;
use photoshare_telemetry::TelemetryError;

/// A start-up or serving failure of a service, whichever service it is.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("telemetry: {0}")]
    Telemetry(#[from] TelemetryError),
    #[error("no service is called `{name}`; the services are: {known}")]
    UnknownService { name: String, known: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Events(#[from] EventError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("feed store: {0}")]
    FeedStore(#[from] StoreError),
    #[error(transparent)]
    WorkerId(#[from] WorkerIdOutOfRange),
    #[error("invalid URL of a service it calls: {0}")]
    ServiceUrl(#[source] tonic::transport::Error),
    #[error("gRPC server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
    #[error("{what} server failed: {source}")]
    Server {
        what: &'static str,
        source: std::io::Error,
    },
    /// The service asked its context for something its spec does not declare: a bug.
    #[error("the {service} service uses {what} but its spec does not declare it")]
    Undeclared {
        service: &'static str,
        what: &'static str,
    },
    #[error("the {service} service took its listener twice")]
    ListenerTaken { service: &'static str },
    #[error("the {task} of the {service} service panicked: {message}")]
    Panicked {
        service: &'static str,
        task: &'static str,
        message: String,
    },
    /// A failure of the service's own making, such as an unreadable signing key.
    #[error(transparent)]
    Service(Box<dyn std::error::Error + Send + Sync>),
}

impl RuntimeError {
    /// Wraps an error of the service's own kind.
    pub fn service(error: impl std::error::Error + Send + Sync + 'static) -> RuntimeError {
        RuntimeError::Service(Box::new(error))
    }

    /// The message of a caught panic, for [`RuntimeError::Panicked`].
    pub(crate) fn panicked(
        service: &'static str,
        task: &'static str,
        payload: &(dyn std::any::Any + Send),
    ) -> RuntimeError {
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        RuntimeError::Panicked {
            service,
            task,
            message,
        }
    }
}
