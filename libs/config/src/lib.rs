//! Configuration of every photoshare process: an optional TOML file, then environment variables,
//! which win. Every backend is chosen by a URL; an unset URL means the embedded default, so an
//! empty configuration runs the whole product on one laptop.
//!
//! Loading takes the environment as a map instead of reading the process environment, so it is
//! unit-testable. This crate only describes settings; it never opens a connection.

mod env;
mod secret;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use env::{EnvVar, ENV_VARS};
pub use secret::{redact_url, Secret};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid value for {var}: {reason}")]
    Env { var: &'static str, reason: String },
}

/// Everything a photoshare process can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where embedded backends keep their files (databases, keys, objects).
    pub data_dir: PathBuf,
    /// This process's id worker number, 0..8192. Replicas of a service that create rows must
    /// differ; unset picks one at random, which collides with probability ~1/8192 per pair.
    pub node_id: Option<u32>,
    pub backends: Backends,
    pub auth: AuthConfig,
    pub gateway: GatewayConfig,
    pub users: UsersConfig,
    pub media: MediaConfig,
    pub graph: ListenConfig,
    pub engagement: ListenConfig,
    pub feed: FeedConfig,
    pub image_worker: ImageWorkerConfig,
    pub events: EventsConfig,
    pub telemetry: TelemetryConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            node_id: None,
            backends: Backends::default(),
            auth: AuthConfig::default(),
            gateway: GatewayConfig::default(),
            users: UsersConfig::default(),
            media: MediaConfig::default(),
            graph: ListenConfig::on_port(50053),
            engagement: ListenConfig::on_port(50054),
            feed: FeedConfig::default(),
            image_worker: ImageWorkerConfig::default(),
            events: EventsConfig::default(),
            telemetry: TelemetryConfig::default(),
        }
    }
}

/// Where each concern's data lives. `None` means the embedded default. `Debug` hides the
/// passwords (the Kafka one, and any in the PostgreSQL and Redis URLs).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Backends {
    /// A PostgreSQL *server* URL; each service creates and uses its own database on it.
    pub postgres_url: Option<String>,
    /// Service databases are named `<prefix><service>`, e.g. `photoshare_users`.
    pub postgres_database_prefix: String,
    pub redis_url: Option<String>,
    pub kafka_brokers: Option<String>,
    pub s3_endpoint: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_region: Option<String>,
    /// Scylla contact points, `host:port` comma-separated. Unset: the feed's durable store is
    /// the feed database (PostgreSQL when `postgres_url` is set, else SQLite).
    pub scylla_nodes: Option<String>,
    pub scylla_keyspace: Option<String>,
    /// Kafka client security: `security.protocol` (e.g. `SASL_SSL` on MSK), the SASL mechanism
    /// (e.g. `SCRAM-SHA-512`) and credentials. Unset: plaintext, as on a laptop.
    pub kafka_security_protocol: Option<String>,
    pub kafka_sasl_mechanism: Option<String>,
    pub kafka_sasl_username: Option<String>,
    pub kafka_sasl_password: Option<Secret>,
}

impl Default for Backends {
    fn default() -> Self {
        Backends {
            postgres_url: None,
            postgres_database_prefix: "photoshare_".to_owned(),
            redis_url: None,
            kafka_brokers: None,
            s3_endpoint: None,
            s3_bucket: None,
            s3_region: None,
            scylla_nodes: None,
            scylla_keyspace: None,
            kafka_security_protocol: None,
            kafka_sasl_mechanism: None,
            kafka_sasl_username: None,
            kafka_sasl_password: None,
        }
    }
}

impl fmt::Debug for Backends {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured, so that a new field cannot be forgotten here.
        let Backends {
            postgres_url,
            postgres_database_prefix,
            redis_url,
            kafka_brokers,
            s3_endpoint,
            s3_bucket,
            s3_region,
            scylla_nodes,
            scylla_keyspace,
            kafka_security_protocol,
            kafka_sasl_mechanism,
            kafka_sasl_username,
            kafka_sasl_password,
        } = self;
        let redacted = |url: &Option<String>| url.as_deref().map(redact_url);
        f.debug_struct("Backends")
            .field("postgres_url", &redacted(postgres_url))
            .field("postgres_database_prefix", postgres_database_prefix)
            .field("redis_url", &redacted(redis_url))
            .field("kafka_brokers", kafka_brokers)
            .field("s3_endpoint", s3_endpoint)
            .field("s3_bucket", s3_bucket)
            .field("s3_region", s3_region)
            .field("scylla_nodes", scylla_nodes)
            .field("scylla_keyspace", scylla_keyspace)
            .field("kafka_security_protocol", kafka_security_protocol)
            .field("kafka_sasl_mechanism", kafka_sasl_mechanism)
            .field("kafka_sasl_username", kafka_sasl_username)
            .field("kafka_sasl_password", kafka_sasl_password)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `iss` of access tokens; verifiers refuse any other.
    pub issuer: String,
    /// `aud` of access tokens; verifiers refuse any other.
    pub audience: String,
    pub access_token_ttl_secs: u32,
    pub refresh_token_ttl_secs: u64,
    /// PKCS#8 PEM of the Ed25519 signing key. Unset: `<data_dir>/keys/jwt-ed25519.pem`,
    /// created on first start. Replicas of the users service must share one key.
    pub signing_key_file: Option<PathBuf>,
    /// Password hashes (Argon2id, 19 MiB each) computed at once by one users service process.
    /// The default keeps them under 80 MiB, inside a 512 MiB pod.
    pub password_hash_concurrency: usize,
    /// Hashes that may wait for a slot; when that many wait, sign-up and login answer 503
    /// `unavailable` with `Retry-After` at once instead of queueing without bound.
    pub password_hash_queue: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            issuer: "photoshare".to_owned(),
            audience: "photoshare-app".to_owned(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            signing_key_file: None,
            password_hash_concurrency: 4,
            password_hash_queue: 32,
        }
    }
}

impl AuthConfig {
    pub fn signing_key_path(&self, data_dir: &Path) -> PathBuf {
        self.signing_key_file
            .clone()
            .unwrap_or_else(|| data_dir.join("keys").join("jwt-ed25519.pem"))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    /// gRPC address of the users service.
    pub users_url: String,
    /// gRPC address of the media service.
    pub media_url: String,
    /// gRPC address of the graph service.
    pub graph_url: String,
    /// gRPC address of the engagement service.
    pub engagement_url: String,
    /// gRPC address of the feed service.
    pub feed_url: String,
    /// Deadline of every call to an internal service.
    pub request_timeout_ms: u64,
    /// Largest JSON body accepted; larger ones get 413 before they are read whole.
    pub body_limit_bytes: usize,
    /// Sign-up and login attempts allowed per client IP and minute (each limited separately).
    pub auth_rate_limit_per_minute: u32,
    /// Login attempts allowed per account (the normalised login name) and minute, whatever
    /// the addresses they come from.
    pub login_account_rate_limit_per_minute: u32,
    /// Writes (POST, PUT, PATCH, DELETE with an access token) allowed per account and minute.
    pub write_rate_limit_per_minute: u32,
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// HTTP worker threads; unset means one per core.
    pub workers: Option<usize>,
    /// How often the gateway asks the users service for new token revocations.
    pub revocation_poll_ms: u64,
    /// A gateway whose revocation list is older than this says it is not ready.
    pub revocation_stale_after_ms: u64,
    /// `GET /metrics` with `Authorization: Bearer <this>` is answered from anywhere. Without
    /// it, only direct requests from loopback or private addresses are (see `metrics_private`).
    pub metrics_token: Option<Secret>,
    /// Answer `GET /metrics` to requests straight from loopback and private addresses (an
    /// in-cluster Prometheus) that no proxy forwarded.
    pub metrics_private: bool,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            users_url: "http://127.0.0.1:50051".to_owned(),
            media_url: "http://127.0.0.1:50052".to_owned(),
            graph_url: "http://127.0.0.1:50053".to_owned(),
            engagement_url: "http://127.0.0.1:50054".to_owned(),
            feed_url: "http://127.0.0.1:50055".to_owned(),
            request_timeout_ms: 5_000,
            body_limit_bytes: 64 * 1024,
            auth_rate_limit_per_minute: 10,
            login_account_rate_limit_per_minute: 10,
            write_rate_limit_per_minute: 300,
            trust_forwarded_for: false,
            workers: None,
            revocation_poll_ms: 1_000,
            revocation_stale_after_ms: 10_000,
            metrics_token: None,
            metrics_private: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsersConfig {
    pub listen: SocketAddr,
}

impl Default for UsersConfig {
    fn default() -> Self {
        UsersConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 50051)),
        }
    }
}

/// A service whose only setting so far is where it listens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenConfig {
    pub listen: SocketAddr,
}

impl ListenConfig {
    pub fn on_port(port: u16) -> ListenConfig {
        ListenConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], port)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    pub listen: SocketAddr,
    /// Largest upload accepted (API.md: 20 MiB).
    pub max_upload_bytes: u64,
    /// How long a presigned upload URL works.
    pub upload_expiry_secs: u64,
    /// How long after the URL expired the upload may still be completed (a slow network may
    /// finish the PUT just in time).
    pub completion_grace_secs: u64,
    /// Lifetime of the presigned GET URLs of variants handed to the app.
    pub variant_url_ttl_secs: u64,
    /// When set, variant URLs are `<base>/<object key>` (a CDN in front of the bucket) instead
    /// of presigned GETs.
    pub public_base_url: Option<String>,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 50052)),
            max_upload_bytes: 20 * 1024 * 1024,
            upload_expiry_secs: 15 * 60,
            completion_grace_secs: 3600,
            variant_url_ttl_secs: 3600,
            public_base_url: None,
        }
    }
}

/// The feed service (reads) and its fan-out worker (writes).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedConfig {
    /// gRPC (and `/livez`, `/readyz`, `/metrics`) of the feed service.
    pub listen: SocketAddr,
    /// `/livez`, `/readyz`, `/metrics` of the fan-out worker when it runs as its own process.
    pub worker_listen: SocketAddr,
    /// gRPC address of the graph service.
    pub graph_url: String,
    /// Authors with more followers than this are not pushed to followers' caches; readers pull
    /// their posts from the durable store instead.
    pub fanout_threshold: u64,
    /// A reader's cached feed lives this long after their last read; pushes skip readers
    /// without one.
    pub active_days: u64,
    /// Posts kept per cached feed.
    pub cache_cap: usize,
    /// Prepended to every Redis key of the deployment, the feed's and the gateway's rate-limit
    /// budgets (several deployments sharing one Redis).
    pub redis_key_prefix: String,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 50055)),
            worker_listen: SocketAddr::from(([0, 0, 0, 0], 9091)),
            graph_url: "http://127.0.0.1:50053".to_owned(),
            fanout_threshold: 10_000,
            active_days: 30,
            cache_cap: 800,
            redis_key_prefix: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImageWorkerConfig {
    /// `/livez`, `/readyz`, `/metrics` of the worker.
    pub listen: SocketAddr,
    /// gRPC address of the media service, to report results.
    pub media_url: String,
    /// Images whose header declares more pixels are refused before decoding.
    pub max_pixels: u64,
    /// Wall-clock limit of processing one image.
    pub processing_timeout_secs: u64,
}

impl Default for ImageWorkerConfig {
    fn default() -> Self {
        ImageWorkerConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 9090)),
            media_url: "http://127.0.0.1:50052".to_owned(),
            max_pixels: 50_000_000,
            processing_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Partitions of topics the services create.
    pub kafka_partitions: i32,
    /// Replication factor of topics the services create (3 on a production cluster).
    pub kafka_replication: i32,
    pub kafka_session_timeout_ms: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            kafka_partitions: 6,
            kafka_replication: 1,
            kafka_session_timeout_ms: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable lines, for a terminal.
    Text,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    pub log_format: LogFormat,
    /// A `tracing` filter such as `info,photoshare_users=debug`.
    pub log_filter: String,
    /// OTLP/gRPC collector endpoint; unset means traces are not exported.
    pub otlp_endpoint: Option<String>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            log_format: LogFormat::Json,
            log_filter: "info".to_owned(),
            otlp_endpoint: None,
        }
    }
}

impl Config {
    /// Reads the TOML file (if any), then applies the environment overrides.
    pub fn load(
        file: Option<&Path>,
        env: &std::collections::HashMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let mut config = match file {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        env::apply_overrides(&mut config, env)?;
        Ok(config)
    }

    /// The configuration of this process: the file named by `PHOTOSHARE_CONFIG` (if any) and
    /// the process environment. For binaries; libraries take a `Config`.
    pub fn from_process_env() -> Result<Config, ConfigError> {
        let env: std::collections::HashMap<String, String> = std::env::vars().collect();
        let file = env
            .get("PHOTOSHARE_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Config::load(file.as_deref(), &env)
    }

    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_means_every_backend_is_embedded() {
        let config: Config = toml::from_str("").unwrap();
        assert!(config.backends.postgres_url.is_none());
        assert!(config.backends.kafka_brokers.is_none());
        assert_eq!(config.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = toml::from_str::<Config>("[gateway]\nlisten_adress = \"0.0.0.0:1\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("listen_adress"), "{error}");
    }

    #[test]
    fn file_values_are_read() {
        let config: Config = toml::from_str(
            "data_dir = \"/var/lib/photoshare\"\n[gateway]\nbody_limit_bytes = 1024\n",
        )
        .unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/photoshare"));
        assert_eq!(config.gateway.body_limit_bytes, 1024);
        assert_eq!(config.gateway.request_timeout_ms, 5_000);
    }

    #[test]
    fn debug_output_shows_no_password() {
        let config: Config = toml::from_str(
            "[backends]\npostgres_url = \"postgres://app:pg-pw@db:5432\"\n\
             redis_url = \"rediss://:redis-pw@cache:6379\"\n\
             kafka_sasl_username = \"app\"\nkafka_sasl_password = \"kafka-pw\"\n",
        )
        .unwrap();
        let shown = format!("{config:?}");
        for password in ["pg-pw", "redis-pw", "kafka-pw"] {
            assert!(!shown.contains(password), "{password} in {shown}");
        }
        assert!(shown.contains("postgres://app:***@db:5432"), "{shown}");
        assert_eq!(
            config
                .backends
                .kafka_sasl_password
                .map(|p| p.expose().to_owned()),
            Some("kafka-pw".to_owned())
        );
    }

    #[test]
    fn the_signing_key_defaults_into_the_data_dir() {
        let auth = AuthConfig::default();
        assert_eq!(
            auth.signing_key_path(Path::new("/d")),
            PathBuf::from("/d/keys/jwt-ed25519.pem")
        );
    }
}
