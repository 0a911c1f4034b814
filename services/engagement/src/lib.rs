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

use photoshare_db::{embed_migrations, MigrationFile};
use photoshare_proto::engagement::v1::engagement_server::EngagementServer;
use photoshare_runtime::{DatabaseSpec, Dev, RuntimeError, ServiceContext, ServiceSpec};

pub use error::EngagementError;
pub use service::EngagementService;

pub static MIGRATIONS: &[MigrationFile] =
    embed_migrations!("../../../migrations/engagement", 1 => "0001_init", 2 => "0002_comment_keys");

/// The engagement service: database `<prefix>engagement` with its outbox,
/// `photoshare serve engagement`.
pub static SPEC: ServiceSpec = ServiceSpec {
    name: "engagement",
    database: Some(DatabaseSpec::owned("engagement", MIGRATIONS)),
    outbox_relay: true,
    listen: |config| config.engagement.listen,
    dev: Dev::loopback(|config, url| config.gateway.engagement_url = url.to_owned()),
    start: |context| Box::pin(start(context)),
};

async fn start(context: ServiceContext) -> Result<(), RuntimeError> {
    let service = EngagementService::new(
        store::Store::new(context.database()?),
        context.ids()?,
        context.outbox()?,
    );
    context
        .serve_grpc(|routes| routes.add_service(EngagementServer::new(service)))
        .await
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
