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

use photoshare_db::{embed_migrations, MigrationFile};
use photoshare_proto::graph::v1::graph_server::GraphServer;
use photoshare_runtime::{DatabaseSpec, Dev, RuntimeError, ServiceContext, ServiceSpec};

pub use error::GraphError;
pub use service::GraphService;

pub static MIGRATIONS: &[MigrationFile] =
    embed_migrations!("../../../migrations/graph", 1 => "0001_init");

/// The graph service: database `<prefix>graph` with its outbox, `photoshare serve graph`.
pub static SPEC: ServiceSpec = ServiceSpec {
    name: "graph",
    database: Some(DatabaseSpec::owned("graph", MIGRATIONS)),
    outbox_relay: true,
    listen: |config| config.graph.listen,
    dev: Dev::loopback(|config, url| {
        config.gateway.graph_url = url.to_owned();
        config.feed.graph_url = url.to_owned();
    }),
    start: |context| Box::pin(start(context)),
};

async fn start(context: ServiceContext) -> Result<(), RuntimeError> {
    let service = GraphService::new(
        store::Store::new(context.database()?),
        context.ids()?,
        context.outbox()?,
    );
    context
        .serve_grpc(|routes| routes.add_service(GraphServer::new(service)))
        .await
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
