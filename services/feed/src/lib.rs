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
pub mod stores;

use std::sync::Arc;
use std::time::Duration;

use photoshare_config::Config;
use photoshare_events::{run_consumer, Backoff, EventBus, EventError};
use photoshare_proto::feed::v1::feed_server::FeedServer;
use photoshare_telemetry::{ops_router, Metrics};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::FeedError;
pub use fanout::FanOut;
pub use reader::FeedReader;
pub use stores::{Stores, StoresError};

/// The service name: its database is `<prefix>feed`, its metrics say `service="feed"`.
pub const SERVICE: &str = "feed";
/// The fan-out worker's consumer group: every worker replica shares the work.
pub const GROUP: &str = "feed-fanout";
/// Deadline of each call to the graph service.
const GRAPH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Stores(#[from] StoresError),
    #[error(transparent)]
    Events(#[from] EventError),
    #[error("invalid graph URL: {0}")]
    GraphUrl(tonic::transport::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("ops server failed: {0}")]
    Ops(std::io::Error),
    #[error(
        "the fan-out worker as its own process needs a cache it shares with the feed service: \
         set PHOTOSHARE_REDIS_URL (without it, `photoshare serve feed` runs the worker itself)"
    )]
    WorkerWithoutSharedCache,
}

async fn bind(addr: std::net::SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: addr.to_string(),
            source,
        })
}

fn graph(config: &Config) -> Result<graph::Graph, ServeError> {
    graph::Graph::connect_lazy(&config.feed.graph_url, GRAPH_TIMEOUT).map_err(ServeError::GraphUrl)
}

/// The reader over `stores`, as configured.
pub fn reader(config: &Config, stores: &Stores) -> Result<FeedReader, ServeError> {
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
pub fn fan_out(config: &Config, stores: &Stores) -> Result<FanOut, ServeError> {
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

/// `photoshare serve feed`: the feed service on `feed.listen`. With an in-process cache it also
/// runs the fan-out worker, the only writer that can reach that cache.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    let stores = Stores::open(&config).await?;
    let bus = if stores.cache_in_process {
        Some(photoshare_events::bus_from_config(&config).await?)
    } else {
        None
    };
    let listener = bind(config.feed.listen).await?;
    serve(listener, config, stores, bus, shutdown).await
}

/// Serves the feed on `listener` until `shutdown`; with `fan_out_bus`, also consumes the
/// fan-out topics from it in this process.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    stores: Stores,
    fan_out_bus: Option<Arc<dyn EventBus>>,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let service = service::FeedService::new(reader(&config, &stores)?, fan_out(&config, &stores)?);
    let worker = match fan_out_bus {
        Some(bus) => Some(tokio::spawn(consume(
            bus,
            Arc::new(fan_out(&config, &stores)?),
            shutdown.clone(),
        ))),
        None => None,
    };
    let served = photoshare_telemetry::grpc::serve(
        listener,
        SERVICE,
        stores.readiness(),
        |routes| routes.add_service(FeedServer::new(service)),
        shutdown.clone().cancelled_owned(),
    )
    .await;
    shutdown.cancel();
    let consumed = match worker {
        Some(task) => task.await.unwrap_or(Ok(())),
        None => Ok(()),
    };
    stores.close().await;
    served?;
    consumed?;
    tracing::info!("feed service stopped");
    Ok(())
}

/// `photoshare serve feed-worker`: the fan-out worker alone, with its ops endpoints on
/// `feed.worker_listen`. Needs the shared (Redis) cache.
pub async fn run_worker(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    let stores = Stores::open(&config).await?;
    if stores.cache_in_process {
        return Err(ServeError::WorkerWithoutSharedCache);
    }
    let bus = photoshare_events::bus_from_config(&config).await?;
    let listener = bind(config.feed.worker_listen).await?;
    serve_worker(listener, config, stores, bus, shutdown).await
}

/// Consumes the fan-out topics until `shutdown`, serving the ops endpoints on `ops_listener`.
pub async fn serve_worker(
    ops_listener: TcpListener,
    config: Config,
    stores: Stores,
    bus: Arc<dyn EventBus>,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let handler = Arc::new(fan_out(&config, &stores)?);
    let ops = ops_router(stores.readiness(), Metrics::new());
    let ops_shutdown = shutdown.clone();
    let ops_task = tokio::spawn(async move {
        axum::serve(ops_listener, ops)
            .with_graceful_shutdown(ops_shutdown.cancelled_owned())
            .await
    });
    let consumed = consume(bus, handler, shutdown.clone()).await;
    shutdown.cancel();
    let ops_result = ops_task.await;
    stores.close().await;
    consumed?;
    if let Ok(Err(error)) = ops_result {
        return Err(ServeError::Ops(error));
    }
    tracing::info!("feed fan-out worker stopped");
    Ok(())
}

async fn consume(
    bus: Arc<dyn EventBus>,
    handler: Arc<FanOut>,
    shutdown: CancellationToken,
) -> Result<(), EventError> {
    tracing::info!(topics = ?fanout::TOPICS, "feed fan-out consuming");
    run_consumer(
        bus,
        GROUP.to_owned(),
        fanout::TOPICS
            .iter()
            .map(|topic| (*topic).to_owned())
            .collect(),
        handler,
        Backoff::default(),
        shutdown,
    )
    .await
}
