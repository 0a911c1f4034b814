//! The graph service: who follows whom, follow requests for private accounts (pending until the
//! owner approves or denies them), follower and following counts kept in the transaction of
//! every change, newest-first pages of followers, followings and requests, relationships and
//! counts for many users in a constant number of queries, and every follower of a user streamed
//! in keyset-paged batches (for fan-out). Served over gRPC (`photoshare.graph.v1.Graph`) with
//! `/livez`, `/readyz` and `/metrics` on the same port. Its events (`graph.followed`,
//! `graph.unfollowed`) leave through the transactional outbox.
//!
//! It owns the graph database. It must not read other services' data: the caller (the gateway)
//! says whether the followee is private and has checked who the caller is.

pub mod domain;
pub mod error;
pub mod service;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use photoshare_config::Config;
use photoshare_db::{embed_migrations, Database, DbError, MigrationFile};
use photoshare_events::{EventBus, EventError, Relay};
use photoshare_ids::{IdGenerator, WorkerId, WorkerIdOutOfRange};
use photoshare_proto::graph::v1::graph_server::GraphServer;
use photoshare_telemetry::Readiness;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::GraphError;
pub use service::GraphService;

/// The service name: its database is `<prefix>graph`, its metrics say `service="graph"`.
pub const SERVICE: &str = "graph";

pub static MIGRATIONS: &[MigrationFile] =
    embed_migrations!("../../../migrations/graph", 1 => "0001_init");

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

/// Runs the service from configuration alone (Kafka or the local log) on `graph.listen` until
/// `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    run_on(config.graph.listen, config, shutdown).await
}

/// Like [`run`], listening on `addr`.
pub async fn run_on(
    addr: SocketAddr,
    config: Config,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let bus = photoshare_events::bus_from_config(&config).await?;
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
    let service = GraphService::new(
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
        |routes| routes.add_service(GraphServer::new(service)),
        shutdown.clone().cancelled_owned(),
    )
    .await;
    shutdown.cancel();
    let _ = relay_task.await;
    database.close().await;
    served?;
    tracing::info!("graph service stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_migration_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/graph");
        let missing = photoshare_db::unembedded_migrations(&dir, super::MIGRATIONS).unwrap();
        assert!(missing.is_empty(), "not listed in MIGRATIONS: {missing:?}");
    }
}
