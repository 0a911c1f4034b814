//! The users service: sign-up, login with Argon2id, sessions (an access JWT plus an opaque
//! refresh token that rotates on every use, re-use revoking the whole login), profiles and batch
//! lookups, served over gRPC (`photoshare.users.v1.Users`) with `/livez`, `/readyz` and
//! `/metrics` on the same port.
//!
//! It owns the users database and is the only holder of the token signing key. It must not
//! know HTTP routes or JSON shapes of the public API: that is the gateway's job.

pub mod domain;
pub mod error;
pub mod keys;
mod passwords;
mod revocations;
pub mod service;
pub mod store;
mod tokens;

use std::sync::Arc;

use photoshare_config::Config;
use photoshare_db::{embed_migrations, Database, DbError, MigrationFile};
use photoshare_ids::{IdGenerator, WorkerId, WorkerIdOutOfRange};
use photoshare_proto::users::v1::users_server::UsersServer;
use photoshare_telemetry::Readiness;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::UsersError;
pub use service::UsersService;

/// The service name: its database is `<prefix>users`, its metrics say `service="users"`.
pub const SERVICE: &str = "users";

pub static MIGRATIONS: &[MigrationFile] = embed_migrations!("../../../migrations/users", 1 => "0001_init", 2 => "0002_revocations_and_signup_keys");

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    SigningKey(#[from] keys::KeyFileError),
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

/// Runs the service on the configured address until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    let listener = TcpListener::bind(config.users.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.users.listen.to_string(),
            source,
        })?;
    serve(listener, config, shutdown).await
}

/// Runs the service on `listener` until `shutdown` is cancelled, then drains in-flight calls.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let database = open_database(&config).await?;
    let signing_key = keys::load_or_create(&config.auth.signing_key_path(&config.data_dir))?;
    let worker = WorkerId::configured_or_random(config.node_id)?;
    let service = UsersService::new(
        store::Store::new(database.clone()),
        Arc::new(signing_key),
        Arc::new(IdGenerator::new(worker)),
        config.auth.clone(),
    );
    let readiness: Arc<dyn Readiness> = Arc::new(database.clone());
    photoshare_telemetry::grpc::serve(
        listener,
        SERVICE,
        readiness,
        |routes| routes.add_service(UsersServer::new(service)),
        shutdown.cancelled_owned(),
    )
    .await?;
    database.close().await;
    tracing::info!("users service stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_migration_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/users");
        let missing = photoshare_db::unembedded_migrations(&dir, super::MIGRATIONS).unwrap();
        assert!(missing.is_empty(), "not listed in MIGRATIONS: {missing:?}");
    }
}
