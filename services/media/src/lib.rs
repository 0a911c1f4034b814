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

use photoshare_db::{embed_migrations, MigrationFile};
use photoshare_proto::media::v1::media_server::MediaServer;
use photoshare_runtime::{DatabaseSpec, Dev, RuntimeError, ServiceContext, ServiceSpec};

pub use error::MediaError;
pub use service::MediaService;

pub static MIGRATIONS: &[MigrationFile] =
    embed_migrations!("../../../migrations/media", 1 => "0001_init");

/// The media service: database `<prefix>media` with its outbox, the object store,
/// `photoshare serve media`.
pub static SPEC: ServiceSpec = ServiceSpec {
    name: "media",
    database: Some(DatabaseSpec::owned("media", MIGRATIONS)),
    outbox_relay: true,
    listen: |config| config.media.listen,
    dev: Dev::loopback(|config, url| {
        config.gateway.media_url = url.to_owned();
        config.image_worker.media_url = url.to_owned();
    }),
    start: |context| Box::pin(start(context)),
};

async fn start(context: ServiceContext) -> Result<(), RuntimeError> {
    let service = MediaService::new(
        store::Store::new(context.database()?),
        context.object_store().await?,
        context.ids()?,
        context.config().media.clone(),
        context.outbox()?,
    );
    context
        .serve_grpc(|routes| routes.add_service(MediaServer::new(service)))
        .await
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
