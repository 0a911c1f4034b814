//! The one backend resolver: the configured URLs turned into adapters, in the manner of
//! Quickwit's storage resolver. A service never looks at `config.backends` itself; it asks its
//! [`crate::ServiceContext`], which asks this module.
//!
//! | concern | configured | unset |
//! |---|---|---|
//! | service database | `postgres_url`: database `<prefix><name>` on that server | `<data_dir>/<name>.db` (SQLite) |
//! | event bus | `kafka_brokers` (+ SASL settings): Kafka | the durable log `<data_dir>/events.db` |
//! | object storage | `s3_bucket` (+ `s3_endpoint`, `s3_region`): S3 | the embedded S3 server (`photoshare dev` only) |
//! | feed cache | `redis_url`: Redis or Redis Cluster | in process |
//! | feed post store | `scylla_nodes`: Scylla | the feed database (SQL) |

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use photoshare_config::Config;
use photoshare_db::{Database, DatabaseLocation, DbError, MigrationFile};
use photoshare_events::{EventBus, EventError, KafkaBus, KafkaSettings, LocalLog};
use photoshare_feed_redis::{RedisCache, RedisCacheOptions};
use photoshare_feed_scylla::ScyllaPostStore;
use photoshare_feed_store::{FeedCache, MemoryCache, PostStore, SqlPostStore, StoreError};
use photoshare_storage::{
    CredentialsSource, EmbeddedS3, EmbeddedS3Config, StorageError, StorageSettings,
};
use tokio_util::sync::CancellationToken;

use crate::Readiness;

/// The bucket of the embedded object store.
const EMBEDDED_BUCKET: &str = "photoshare";
/// The Scylla keyspace when none is configured.
const DEFAULT_KEYSPACE: &str = "photoshare";

/// A [`crate::DatabaseSpec::used`] for a database every configuration uses.
pub fn always(_: &Config) -> bool {
    true
}

/// Where the database `name` lives: `<prefix><name>` on the PostgreSQL server, or
/// `<data_dir>/<name>.db`.
pub fn database_location(name: &str, config: &Config) -> Result<DatabaseLocation, DbError> {
    DatabaseLocation::resolve(
        name,
        config.backends.postgres_url.as_deref(),
        &config.backends.postgres_database_prefix,
        &config.data_dir,
    )
}

/// Opens the database `name` (creating it if needed) and applies `migrations`.
pub async fn database(
    name: &str,
    config: &Config,
    migrations: &'static [MigrationFile],
) -> Result<Database, DbError> {
    let database = Database::open(&database_location(name, config)?).await?;
    database.migrate(migrations).await?;
    Ok(database)
}

/// Kafka when brokers are configured, else the durable local log in the data directory.
pub async fn event_bus(config: &Config) -> Result<Arc<dyn EventBus>, EventError> {
    match &config.backends.kafka_brokers {
        Some(brokers) => Ok(Arc::new(KafkaBus::new(kafka_settings(config, brokers))?)),
        None => Ok(Arc::new(LocalLog::open(&config.data_dir).await?)),
    }
}

fn kafka_settings(config: &Config, brokers: &str) -> KafkaSettings {
    let backends = &config.backends;
    let password = backends
        .kafka_sasl_password
        .as_ref()
        .map(|password| password.expose().to_owned());
    let security = [
        (
            "security.protocol",
            backends.kafka_security_protocol.clone(),
        ),
        ("sasl.mechanism", backends.kafka_sasl_mechanism.clone()),
        ("sasl.username", backends.kafka_sasl_username.clone()),
        ("sasl.password", password),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.map(|value| (key.to_owned(), value)))
    .collect();
    KafkaSettings {
        partitions: config.events.kafka_partitions,
        replication: config.events.kafka_replication,
        session_timeout: Duration::from_millis(config.events.kafka_session_timeout_ms),
        security,
        ..KafkaSettings::new(brokers)
    }
}

/// The configured S3 bucket, or `None` when none is (then only `photoshare dev` has one: the
/// embedded server, see [`embedded_object_storage`]).
pub fn object_storage(config: &Config) -> Result<Option<StorageSettings>, StorageError> {
    let backends = &config.backends;
    let Some(bucket) = backends.s3_bucket.clone() else {
        return Ok(None);
    };
    let settings = StorageSettings {
        endpoint: backends.s3_endpoint.clone(),
        bucket,
        region: backends
            .s3_region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_owned()),
        credentials: CredentialsSource::DefaultChain,
    };
    settings.validate()?;
    Ok(Some(settings))
}

/// The error of a service that needs object storage when none is configured.
pub(crate) fn no_object_storage() -> StorageError {
    StorageError::Config(
        "no bucket configured: set PHOTOSHARE_S3_BUCKET (and PHOTOSHARE_S3_REGION, or \
         PHOTOSHARE_S3_ENDPOINT for an S3-compatible server), or run `photoshare dev` for the \
         embedded store"
            .to_owned(),
    )
}

/// Starts the embedded S3 server over `<data_dir>/objects` until `shutdown`.
pub async fn embedded_object_storage(
    data_dir: &Path,
    shutdown: CancellationToken,
) -> Result<EmbeddedS3, StorageError> {
    EmbeddedS3::start(
        EmbeddedS3Config::new(data_dir.join("objects"), EMBEDDED_BUCKET),
        shutdown,
    )
    .await
}

/// Whether the feed cache is shared between processes (Redis), so that a fan-out worker of
/// its own can fill what the feed service reads.
pub fn feed_cache_is_shared(config: &Config) -> bool {
    config.backends.redis_url.is_some()
}

/// Whether the feed's durable post store is the feed database (no Scylla configured).
pub fn posts_in_database(config: &Config) -> bool {
    config.backends.scylla_nodes.is_none()
}

/// The feed's two stores, as configured.
#[derive(Clone)]
pub struct FeedStores {
    pub cache: Arc<dyn FeedCache>,
    pub posts: Arc<dyn PostStore>,
    /// The cache lives in this process: only an in-process fan-out worker can fill it.
    pub cache_in_process: bool,
}

impl FeedStores {
    /// Stores opened elsewhere (tests, benchmarks): the caller runs whatever fills the cache.
    pub fn from_parts(cache: Arc<dyn FeedCache>, posts: Arc<dyn PostStore>) -> FeedStores {
        FeedStores {
            cache,
            posts,
            cache_in_process: false,
        }
    }
}

/// Opens the feed's cache and post store; `database` is the feed database when
/// [`posts_in_database`]. Returns the readiness checks of what it connected to.
pub(crate) async fn feed_stores(
    config: &Config,
    database: Option<&Database>,
) -> Result<(FeedStores, Vec<Arc<dyn Readiness>>), StoreError> {
    let feed = &config.feed;
    let ttl = Duration::from_secs(feed.active_days.max(1) * 24 * 3600);
    let mut checks: Vec<Arc<dyn Readiness>> = Vec::new();

    let cache: Arc<dyn FeedCache> = match &config.backends.redis_url {
        Some(url) => {
            let options = RedisCacheOptions {
                cap: feed.cache_cap,
                ttl,
                key_prefix: feed.redis_key_prefix.clone(),
            };
            let redis = RedisCache::connect(url, options).await?;
            checks.push(Arc::new(Pings::Redis(redis.clone())));
            Arc::new(redis)
        }
        None => Arc::new(MemoryCache::new(feed.cache_cap, ttl)),
    };

    let posts: Arc<dyn PostStore> = match (&config.backends.scylla_nodes, database) {
        (Some(nodes), _) => {
            let nodes: Vec<String> = nodes
                .split(',')
                .map(str::trim)
                .filter(|node| !node.is_empty())
                .map(str::to_owned)
                .collect();
            let keyspace = config
                .backends
                .scylla_keyspace
                .as_deref()
                .unwrap_or(DEFAULT_KEYSPACE);
            let scylla = ScyllaPostStore::connect(&nodes, keyspace).await?;
            checks.push(Arc::new(Pings::Scylla(scylla.clone())));
            Arc::new(scylla)
        }
        (None, Some(database)) => Arc::new(SqlPostStore::new(database.clone())),
        (None, None) => {
            return Err(StoreError::backend(
                "sql",
                "the feed database is not open: the service's spec must declare it",
            ))
        }
    };
    let stores = FeedStores {
        cache,
        posts,
        cache_in_process: !feed_cache_is_shared(config),
    };
    Ok((stores, checks))
}

/// Readiness of a networked feed store: it answers a trivial request.
enum Pings {
    Redis(RedisCache),
    Scylla(ScyllaPostStore),
}

impl Readiness for Pings {
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            match self {
                Pings::Redis(redis) => redis.ping().await,
                Pings::Scylla(scylla) => scylla.ping().await,
            }
            .map_err(|error| error.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use photoshare_config::Secret;

    #[test]
    fn no_postgres_url_means_a_sqlite_file_per_service() {
        let mut config = Config {
            data_dir: "/d".into(),
            ..Config::default()
        };
        assert_eq!(
            database_location("users", &config).unwrap(),
            DatabaseLocation::Sqlite {
                path: "/d/users.db".into()
            }
        );
        config.backends.postgres_url = Some("postgres://h".into());
        assert!(matches!(
            database_location("users", &config).unwrap(),
            DatabaseLocation::Postgres { database, .. } if database == "photoshare_users"
        ));
    }

    #[test]
    fn kafka_security_comes_from_the_configuration() {
        let mut config = Config::default();
        config.backends.kafka_security_protocol = Some("SASL_SSL".into());
        config.backends.kafka_sasl_password = Some(Secret::new("hunter2"));
        config.events.kafka_partitions = 3;
        let settings = kafka_settings(&config, "b:9092");
        assert_eq!(settings.brokers, "b:9092");
        assert_eq!(settings.partitions, 3);
        assert_eq!(
            settings.security,
            vec![
                ("security.protocol".to_owned(), "SASL_SSL".to_owned()),
                ("sasl.password".to_owned(), "hunter2".to_owned()),
            ]
        );
    }

    #[test]
    fn object_storage_is_s3_only_with_a_bucket() {
        let mut config = Config::default();
        assert_eq!(object_storage(&config).unwrap(), None);
        config.backends.s3_bucket = Some("photos".into());
        let settings = object_storage(&config).unwrap().unwrap();
        assert_eq!(settings.region, "us-east-1");
        config.backends.s3_endpoint = Some("not a url".into());
        assert!(object_storage(&config).is_err());
    }

    #[test]
    fn the_feed_stores_follow_redis_and_scylla() {
        let mut config = Config::default();
        assert!(!feed_cache_is_shared(&config));
        assert!(posts_in_database(&config));
        config.backends.redis_url = Some("redis://h".into());
        config.backends.scylla_nodes = Some("h:9042".into());
        assert!(feed_cache_is_shared(&config));
        assert!(!posts_in_database(&config));
    }
}
