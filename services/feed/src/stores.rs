//! The two stores as configuration chooses them: the cache in Redis when `redis_url` is set,
//! else in process; the durable store in Scylla when `scylla_nodes` is set, else in the feed
//! database (PostgreSQL when `postgres_url` is set, else SQLite).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use photoshare_config::Config;
use photoshare_db::{Database, DbError};
use photoshare_feed_redis::{RedisCache, RedisCacheOptions};
use photoshare_feed_scylla::ScyllaPostStore;
use photoshare_feed_store::{FeedCache, MemoryCache, PostStore, SqlPostStore, StoreError};
use photoshare_telemetry::Readiness;

use crate::SERVICE;

#[derive(Debug, thiserror::Error)]
pub enum StoresError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The opened stores, shared by the reader and the fan-out worker of one process.
#[derive(Clone)]
pub struct Stores {
    pub cache: Arc<dyn FeedCache>,
    pub posts: Arc<dyn PostStore>,
    /// The cache lives in this process: only an in-process fan-out worker can fill it.
    pub cache_in_process: bool,
    checks: Vec<Arc<dyn Readiness>>,
    database: Option<Database>,
}

impl Stores {
    pub async fn open(config: &Config) -> Result<Stores, StoresError> {
        let feed = &config.feed;
        let ttl = Duration::from_secs(feed.active_days.max(1) * 24 * 3600);
        let mut checks: Vec<Arc<dyn Readiness>> = Vec::new();

        let (cache, cache_in_process): (Arc<dyn FeedCache>, bool) = match &config.backends.redis_url
        {
            Some(url) => {
                let options = RedisCacheOptions {
                    cap: feed.cache_cap,
                    ttl,
                    key_prefix: feed.redis_key_prefix.clone(),
                };
                let redis = RedisCache::connect(url, options).await?;
                checks.push(Arc::new(Check(Backend::Redis(redis.clone()))));
                (Arc::new(redis), false)
            }
            None => (Arc::new(MemoryCache::new(feed.cache_cap, ttl)), true),
        };

        let (posts, database): (Arc<dyn PostStore>, Option<Database>) = match &config
            .backends
            .scylla_nodes
        {
            Some(nodes) => {
                let nodes: Vec<String> = nodes
                    .split(',')
                    .map(str::trim)
                    .filter(|node| !node.is_empty())
                    .map(str::to_owned)
                    .collect();
                let keyspace = config
                    .backends
                    .scylla_keyspace
                    .clone()
                    .unwrap_or_else(|| "photoshare".to_owned());
                let scylla = ScyllaPostStore::connect(&nodes, &keyspace).await?;
                checks.push(Arc::new(Check(Backend::Scylla(scylla.clone()))));
                (Arc::new(scylla), None)
            }
            None => {
                let database =
                    Database::open_for_service(SERVICE, config, photoshare_feed_store::MIGRATIONS)
                        .await?;
                checks.push(Arc::new(database.clone()));
                (
                    Arc::new(SqlPostStore::new(database.clone())),
                    Some(database),
                )
            }
        };
        Ok(Stores {
            cache,
            posts,
            cache_in_process,
            checks,
            database,
        })
    }

    /// Stores opened elsewhere (tests, benchmarks); readiness checks nothing, and
    /// `cache_in_process` is false: the caller runs whatever fills the cache.
    pub fn from_parts(cache: Arc<dyn FeedCache>, posts: Arc<dyn PostStore>) -> Stores {
        Stores {
            cache,
            posts,
            cache_in_process: false,
            checks: Vec::new(),
            database: None,
        }
    }

    pub fn readiness(&self) -> Arc<dyn Readiness> {
        Arc::new(AllReady(self.checks.clone()))
    }

    pub async fn close(&self) {
        if let Some(database) = &self.database {
            database.close().await;
        }
    }
}

/// Ready when every store answers.
struct AllReady(Vec<Arc<dyn Readiness>>);

impl Readiness for AllReady {
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            for check in &self.0 {
                check.check().await?;
            }
            Ok(())
        })
    }
}

enum Backend {
    Redis(RedisCache),
    Scylla(ScyllaPostStore),
}

/// Readiness of a networked store: it answers a trivial request.
struct Check(Backend);

impl Readiness for Check {
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            match &self.0 {
                Backend::Redis(redis) => redis.ping().await,
                Backend::Scylla(scylla) => scylla.ping().await,
            }
            .map_err(|error| error.to_string())
        })
    }
}
