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

use photoshare_db::{embed_migrations, MigrationFile};
use photoshare_proto::users::v1::users_server::UsersServer;
use photoshare_runtime::{DatabaseSpec, Dev, RuntimeError, ServiceContext, ServiceSpec};

pub use error::UsersError;
pub use service::UsersService;

pub static MIGRATIONS: &[MigrationFile] = embed_migrations!(
    "../../../migrations/users",
    1 => "0001_init",
    2 => "0002_revocations_and_signup_keys",
);

/// The users service: database `<prefix>users`, `photoshare serve users`.
pub static SPEC: ServiceSpec = ServiceSpec {
    name: "users",
    database: Some(DatabaseSpec::owned("users", MIGRATIONS)),
    outbox_relay: false,
    listen: |config| config.users.listen,
    dev: Dev::loopback(|config, url| config.gateway.users_url = url.to_owned()),
    start: |context| Box::pin(start(context)),
};

async fn start(context: ServiceContext) -> Result<(), RuntimeError> {
    let config = context.config();
    let signing_key = keys::load_or_create(&config.auth.signing_key_path(&config.data_dir))
        .map_err(RuntimeError::service)?;
    let service = UsersService::new(
        store::Store::new(context.database()?),
        Arc::new(signing_key),
        context.ids()?,
        config.auth.clone(),
    );
    context
        .serve_grpc(|routes| routes.add_service(UsersServer::new(service)))
        .await
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
