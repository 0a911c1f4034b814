//! The one photoshare binary's library: `dev` mode, which runs every service in one process on
//! embedded backends (each service behind its own loopback gRPC port, exactly as in production),
//! and the plumbing shared by `serve` and `migrate`.
//!
//! It wires services together and must hold no business logic of its own.

pub mod dev;

use photoshare_config::Config;

/// The services `photoshare serve` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServiceName {
    Gateway,
    Users,
    Media,
    ImageWorker,
    Graph,
    Engagement,
    Feed,
    /// The feed's fan-out worker as its own process (needs Redis).
    FeedWorker,
}

/// Applies every service's pending migrations.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    use anyhow::Context;
    photoshare_users::open_database(config)
        .await
        .context("migrating the users database")?
        .close()
        .await;
    photoshare_media::open_database(config)
        .await
        .context("migrating the media database")?
        .close()
        .await;
    photoshare_graph::open_database(config)
        .await
        .context("migrating the graph database")?
        .close()
        .await;
    photoshare_engagement::open_database(config)
        .await
        .context("migrating the engagement database")?
        .close()
        .await;
    photoshare_feed::Stores::open(config)
        .await
        .context("migrating the feed stores")?
        .close()
        .await;
    Ok(())
}
