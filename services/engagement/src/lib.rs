//! The engagement service: likes (one per user and photo, idempotent both ways) and comments on
//! photos, who liked a photo and its comments in pages, and per-photo counts kept in the
//! transaction of every change, so that a page of photos gets its counts and the viewer's likes
//! in a constant number of queries. Served over gRPC (`photoshare.engagement.v1.Engagement`)
//! with `/livez`, `/readyz` and `/metrics` on the same port. Its events (`engagement.liked`,
//! `engagement.commented`) leave through the transactional outbox.
//!
//! It owns the engagement database. It must not read other services' data: the caller (the
//! gateway) says who the photo's author is and has checked that the user may see the photo.

pub mod domain;
pub mod error;
pub mod service;
pub mod store;

use std::sync::Arc;

use photoshare_config::Config;
use photoshare_db::{embed_migrations, Database, DbError, MigrationFile};
use photoshare_events::{EventBus, EventError, Relay};
use photoshare_ids::{IdGenerator, WorkerId, WorkerIdOutOfRange};
use photoshare_proto::engagement::v1::engagement_server::EngagementServer;
use photoshare_telemetry::Readiness;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::EngagementError;
pub use service::EngagementService;

/// The service name: its database is `<prefix>engagement`, its metrics say
/// `service="engagement"`.
pub const SERVICE: &str = "engagement";

pub static MIGRATIONS: &[MigrationFile] =
    embed_migrations!("../../../migrations/engagement", 1 => "0001_init", 2 => "0002_comment_keys");

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Database(#[from] DbError),
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

/// Runs the service from configuration alone (Kafka or the local log), on `engagement.listen`,
/// until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    let bus = photoshare_events::bus_from_config(&config).await?;
    let addr = config.engagement.listen;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    serve(listener, config, bus, shutdown).await
}

/// Runs the service on `listener`, publishing through `bus`, until `shutdown` is cancelled;
/// then drains in-flight calls and stops the relay.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    bus: Arc<dyn EventBus>,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let database = open_database(&config).await?;
    let worker = WorkerId::configured_or_random(config.node_id)?;
    let relay = Relay::new(database.clone(), bus);
    let service = EngagementService::new(
        store::Store::new(database.clone()),
        Arc::new(IdGenerator::new(worker)),
        relay.waker(),
    );
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));

    let readiness: Arc<dyn Readiness> = Arc::new(database.clone());
    let served = photoshare_telemetry::grpc::serve(
        listener,
        SERVICE,
        readiness,
        |routes| routes.add_service(EngagementServer::new(service)),
        shutdown.clone().cancelled_owned(),
    )
    .await;
    shutdown.cancel();
    let _ = relay_task.await;
    database.close().await;
    served?;
    tracing::info!("engagement service stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_migration_file_is_embedded() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/engagement");
        let missing = photoshare_db::unembedded_migrations(&dir, super::MIGRATIONS).unwrap();
        assert!(missing.is_empty(), "not listed in MIGRATIONS: {missing:?}");
    }
}
