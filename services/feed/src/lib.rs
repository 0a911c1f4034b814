//! The home feed: hybrid fan-out. The fan-out worker records every published post in the
//! durable store and pushes it into the cached feeds of the author's active followers, unless
//! the author has more followers than the threshold (a celebrity, whose posts readers pull).
//! The feed service reads a page: the reader's cached window (rebuilt from the durable store
//! when missing, continued from it below the window), merged with their celebrities' newest
//! posts, filtered at read time against the graph and the store. Served over gRPC
//! (`photoshare.feed.v1.Feed`) with `/livez`, `/readyz` and `/metrics` on the same port; the
//! worker has its own ops port when it runs as its own process.
//!
//! It owns the feed stores only. It must not decide visibility from its caches: the graph
//! service is asked on every read, so a stale cache can never show a post to someone who may
//! not see it. Hydrating posts into photos is the gateway's job.

pub mod error;
pub mod fanout;
pub mod graph;
pub mod merge;
pub mod reader;
pub mod service;

use std::sync::Arc;
use std::time::Duration;

use photoshare_proto::feed::v1::feed_server::FeedServer;
use photoshare_runtime::{
    resolve, DatabaseSpec, Dev, FeedStores, RuntimeError, ServiceContext, ServiceSpec,
};

pub use error::FeedError;
pub use fanout::FanOut;
pub use reader::FeedReader;

/// The fan-out worker's consumer group: every worker replica shares the work.
pub const GROUP: &str = "feed-fanout";
/// Deadline of each call to the graph service.
const GRAPH_TIMEOUT: Duration = Duration::from_secs(10);

/// The feed database (`<prefix>feed`): the durable post store, unless Scylla holds it.
const DATABASE: DatabaseSpec = DatabaseSpec {
    name: "feed",
    migrations: photoshare_feed_store::MIGRATIONS,
    used: resolve::posts_in_database,
};

/// `photoshare serve feed`: the feed service on `feed.listen`. With an in-process cache it also
/// runs the fan-out worker, the only writer that can reach that cache.
pub static SPEC: ServiceSpec = ServiceSpec {
    name: "feed",
    database: Some(DATABASE),
    outbox_relay: false,
    listen: |config| config.feed.listen,
    dev: Dev::loopback(|config, url| config.gateway.feed_url = url.to_owned()),
    start: |context| Box::pin(start(context)),
};

/// `photoshare serve feed-worker`: the fan-out worker alone, with its ops endpoints on
/// `feed.worker_listen`. Needs the shared (Redis) cache; `photoshare dev` runs it when there
/// is one.
pub static WORKER_SPEC: ServiceSpec = ServiceSpec {
    name: "feed-worker",
    database: Some(DATABASE),
    outbox_relay: false,
    listen: |config| config.feed.worker_listen,
    dev: Dev::Loopback {
        runs: resolve::feed_cache_is_shared,
        announce: |_, _| {},
    },
    start: |context| Box::pin(start_worker(context)),
};

#[derive(Debug, thiserror::Error)]
#[error(
    "the fan-out worker as its own process needs a cache it shares with the feed service: \
     set PHOTOSHARE_REDIS_URL (without it, `photoshare serve feed` runs the worker itself)"
)]
pub struct WorkerWithoutSharedCache;

fn graph(config: &photoshare_config::Config) -> Result<graph::Graph, RuntimeError> {
    graph::Graph::connect_lazy(&config.feed.graph_url, GRAPH_TIMEOUT)
        .map_err(RuntimeError::ServiceUrl)
}

/// The reader over `stores`, as configured.
pub fn reader(
    config: &photoshare_config::Config,
    stores: &FeedStores,
) -> Result<FeedReader, RuntimeError> {
    Ok(FeedReader {
        cache: stores.cache.clone(),
        posts: stores.posts.clone(),
        graph: graph(config)?,
        settings: reader::ReaderSettings {
            fanout_threshold: config.feed.fanout_threshold,
            cache_cap: config.feed.cache_cap,
        },
    })
}

/// The fan-out handler over `stores`, as configured.
pub fn fan_out(
    config: &photoshare_config::Config,
    stores: &FeedStores,
) -> Result<FanOut, RuntimeError> {
    Ok(FanOut {
        cache: stores.cache.clone(),
        posts: stores.posts.clone(),
        graph: graph(config)?,
        settings: fanout::FanOutSettings {
            fanout_threshold: config.feed.fanout_threshold,
            backfill: config.feed.cache_cap,
        },
    })
}

async fn start(context: ServiceContext) -> Result<(), RuntimeError> {
    let config = context.config();
    let stores = context.feed_stores().await?;
    let service = service::FeedService::new(reader(config, &stores)?, fan_out(config, &stores)?);
    if stores.cache_in_process {
        let handler = Arc::new(fan_out(config, &stores)?);
        context.spawn(
            "fan-out worker",
            context.consume(GROUP, &fanout::TOPICS, handler),
        );
    }
    context
        .serve_grpc(|routes| routes.add_service(FeedServer::new(service)))
        .await
}

async fn start_worker(mut context: ServiceContext) -> Result<(), RuntimeError> {
    if !resolve::feed_cache_is_shared(context.config()) {
        return Err(RuntimeError::service(WorkerWithoutSharedCache));
    }
    let stores = context.feed_stores().await?;
    let handler = Arc::new(fan_out(context.config(), &stores)?);
    context.spawn_ops()?;
    context.consume(GROUP, &fanout::TOPICS, handler).await
}
