//! The two stores as configuration chooses them: the cache in Redis when `redis_url` is set,
//! else in process; the durable store in Scylla when `scylla_nodes` is set, else in the feed
//! database (PostgreSQL when `postgres_url` is set, else SQLite).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use photoshare_config::Config;
use photoshare_db::{Database, DbError};
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
        let (cache, cache_in_process): (Arc<dyn FeedCache>, bool) =
            (Arc::new(MemoryCache::new(feed.cache_cap, ttl)), true);
        let database =
            Database::open_for_service(SERVICE, config, photoshare_feed_store::MIGRATIONS).await?;
        checks.push(Arc::new(database.clone()));
        let posts: Arc<dyn PostStore> = Arc::new(SqlPostStore::new(database.clone()));
        Ok(Stores {
            cache,
            posts,
            cache_in_process,
            checks,
            database: Some(database),
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
