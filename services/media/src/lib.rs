//! The media service: presigned uploads straight to object storage, the checks that turn an
//! upload into a photo (size, type sniffed from the bytes), the photo's life (`processing` →
//! `ready` | `failed`, edits, deletion with its objects), the profile grid, and batch reads for
//! hydration. Its events (`photo.uploaded`, `photo.published`, `photo.deleted`) leave through the
//! transactional outbox.
//!
//! It owns the media database and the object keys. It never decodes an image (the image worker
//! does, behind limits) and never serves image bytes (clients fetch them from storage).

pub mod domain;
pub mod error;
pub mod service;
pub mod store;

use std::sync::Arc;

use photoshare_config::Config;
use photoshare_db::{embed_migrations, Database, DbError, MigrationFile};
use photoshare_events::{EventBus, EventError, Relay};
use photoshare_ids::{IdGenerator, WorkerId, WorkerIdOutOfRange};
use photoshare_proto::media::v1::media_server::MediaServer;
use photoshare_storage::{ObjectStore, StorageError, StorageSettings};
use photoshare_telemetry::Readiness;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::MediaError;
pub use service::MediaService;

pub const SERVICE: &str = "media";

pub static MIGRATIONS: &[MigrationFile] =
    embed_migrations!("../../../migrations/media", 1 => "0001_init");

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Events(#[from] EventError),
    #[error(transparent)]
    WorkerId(#[from] WorkerIdOutOfRange),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Opens the database and applies pending migrations.
pub async fn open_database(config: &Config) -> Result<Database, DbError> {
    Database::open_for_service(SERVICE, config, MIGRATIONS).await
}

/// Runs the service from configuration alone (production: S3 and Kafka or the local log).
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    let storage = photoshare_storage::settings_from_config(&config.backends)?;
    let bus = photoshare_events::bus_from_config(&config).await?;
    let listener = TcpListener::bind(config.media.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.media.listen.to_string(),
            source,
        })?;
    serve(listener, config, storage, bus, shutdown).await
}

/// Runs the service on `listener` with the given storage and event bus until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    storage: StorageSettings,
    bus: Arc<dyn EventBus>,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let database = open_database(&config).await?;
    let objects = ObjectStore::connect(&storage).await?;
    let worker = WorkerId::configured_or_random(config.node_id)?;
    let relay = Relay::new(database.clone(), bus);
    let service = MediaService::new(
        store::Store::new(database.clone()),
        objects.clone(),
        Arc::new(IdGenerator::new(worker)),
        config.media.clone(),
        relay.waker(),
    );
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));

    let readiness: Arc<dyn Readiness> = Arc::new(MediaReadiness {
        database: database.clone(),
        objects,
    });
    photoshare_telemetry::grpc::serve(
        listener,
        SERVICE,
        readiness,
        |routes| routes.add_service(MediaServer::new(service)),
        shutdown.clone().cancelled_owned(),
    )
    .await?;
    shutdown.cancel();
    let _ = relay_task.await;
    database.close().await;
    tracing::info!("media service stopped");
    Ok(())
}

struct MediaReadiness {
    database: Database,
    objects: ObjectStore,
}

impl Readiness for MediaReadiness {
    fn check(&self) -> futures::future::BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.database.check().await?;
            self.objects
                .ping()
                .await
                .map_err(|error| format!("object storage: {error}"))
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_migration_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/media");
        let missing = photoshare_db::unembedded_migrations(&dir, super::MIGRATIONS).unwrap();
        assert!(missing.is_empty(), "not listed in MIGRATIONS: {missing:?}");
    }
}
