//! The image worker: a consumer group on `photo.uploaded` that fetches each original, runs the
//! imaging pipeline (limits checked from the header, EXIF orientation, metadata stripped, three
//! JPEG variants and a BlurHash), stores the variants and reports to media over gRPC. Failures
//! become the photo's `failed` status; transient trouble is retried with backoff; poison goes to
//! `photo.uploaded.dlq`. `/livez`, `/readyz` and `/metrics` are served on its own port.
//!
//! It owns no data and must not write to media's database: it only reports.

mod handler;

use std::sync::Arc;
use std::time::Duration;

use photoshare_config::Config;
use photoshare_events::{run_consumer, Backoff, EventBus, EventError};
use photoshare_proto::media::v1::media_client::MediaClient;
use photoshare_proto::topics;
use photoshare_storage::{ObjectStore, StorageError, StorageSettings};
use photoshare_telemetry::grpc::ClientInterceptor;
use photoshare_telemetry::{ops_router, Metrics, Readiness};
use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub use handler::ProcessUploads;

pub const SERVICE: &str = "image-worker";
/// The consumer group: every worker replica shares the work.
pub const GROUP: &str = "image-worker";

pub type Media = MediaClient<InterceptedService<Channel, ClientInterceptor>>;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Events(#[from] EventError),
    #[error("invalid media URL: {0}")]
    MediaUrl(#[from] tonic::transport::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("ops server failed: {0}")]
    Ops(std::io::Error),
}

/// Runs the worker from configuration alone (production: S3 and Kafka or the local log).
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    let storage = photoshare_storage::settings_from_config(&config.backends)?;
    let bus = photoshare_events::bus_from_config(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.image_worker.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.image_worker.listen.to_string(),
            source,
        })?;
    serve(listener, config, storage, bus, shutdown).await
}

/// Consumes until `shutdown`, serving the ops endpoints on `ops_listener`.
pub async fn serve(
    ops_listener: tokio::net::TcpListener,
    config: Config,
    storage: StorageSettings,
    bus: Arc<dyn EventBus>,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let objects = ObjectStore::connect(&storage).await?;
    let channel = photoshare_telemetry::grpc::lazy_channel(
        &config.image_worker.media_url,
        Duration::from_secs(10),
    )?;
    let handler = Arc::new(ProcessUploads {
        objects: objects.clone(),
        media: MediaClient::with_interceptor(channel, ClientInterceptor),
        limits: photoshare_imaging::Limits {
            max_bytes: config.media.max_upload_bytes as usize,
            max_pixels: config.image_worker.max_pixels,
            ..photoshare_imaging::Limits::default()
        },
        timeout: Duration::from_secs(config.image_worker.processing_timeout_secs.max(1)),
    });

    let readiness: Arc<dyn Readiness> = Arc::new(StorageReadiness(objects));
    let ops = ops_router(readiness, Metrics::new());
    let ops_shutdown = shutdown.clone();
    let ops_task = tokio::spawn(async move {
        axum::serve(ops_listener, ops)
            .with_graceful_shutdown(ops_shutdown.cancelled_owned())
            .await
    });

    tracing::info!("image worker consuming {}", topics::PHOTO_UPLOADED);
    run_consumer(
        bus,
        GROUP.to_owned(),
        vec![topics::PHOTO_UPLOADED.to_owned()],
        handler,
        Backoff::default(),
        shutdown.clone(),
    )
    .await?;
    shutdown.cancel();
    match ops_task.await {
        Ok(Ok(())) | Err(_) => {}
        Ok(Err(error)) => return Err(ServeError::Ops(error)),
    }
    tracing::info!("image worker stopped");
    Ok(())
}

struct StorageReadiness(ObjectStore);

impl Readiness for StorageReadiness {
    fn check(&self) -> futures::future::BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.0
                .ping()
                .await
                .map_err(|error| format!("object storage: {error}"))
        })
    }
}
