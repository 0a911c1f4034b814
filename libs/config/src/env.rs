//! Environment overrides. The variable names are part of the operator contract: every
//! deployment manifest and every later service uses them, so they never change meaning.
//! An empty value counts as unset, as Kubernetes and compose files often leave them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;

use crate::{Config, ConfigError, LogFormat};

/// Every variable read, with what it sets (printed by `photoshare --help` and the README).
pub const ENV_VARS: &[(&str, &str)] = &[
    ("PHOTOSHARE_DATA_DIR", "data_dir"),
    ("PHOTOSHARE_NODE_ID", "node_id"),
    ("PHOTOSHARE_POSTGRES_URL", "backends.postgres_url"),
    (
        "PHOTOSHARE_POSTGRES_DATABASE_PREFIX",
        "backends.postgres_database_prefix",
    ),
    ("PHOTOSHARE_REDIS_URL", "backends.redis_url"),
    ("PHOTOSHARE_KAFKA_BROKERS", "backends.kafka_brokers"),
    ("PHOTOSHARE_S3_ENDPOINT", "backends.s3_endpoint"),
    ("PHOTOSHARE_S3_BUCKET", "backends.s3_bucket"),
    ("PHOTOSHARE_S3_REGION", "backends.s3_region"),
    ("PHOTOSHARE_SCYLLA_NODES", "backends.scylla_nodes"),
    ("PHOTOSHARE_SCYLLA_KEYSPACE", "backends.scylla_keyspace"),
    (
        "PHOTOSHARE_KAFKA_SECURITY_PROTOCOL",
        "backends.kafka_security_protocol",
    ),
    (
        "PHOTOSHARE_KAFKA_SASL_MECHANISM",
        "backends.kafka_sasl_mechanism",
    ),
    (
        "PHOTOSHARE_KAFKA_SASL_USERNAME",
        "backends.kafka_sasl_username",
    ),
    (
        "PHOTOSHARE_KAFKA_SASL_PASSWORD",
        "backends.kafka_sasl_password",
    ),
    ("PHOTOSHARE_JWT_SIGNING_KEY_FILE", "auth.signing_key_file"),
    ("PHOTOSHARE_GATEWAY_LISTEN", "gateway.listen"),
    ("PHOTOSHARE_USERS_URL", "gateway.users_url"),
    ("PHOTOSHARE_USERS_LISTEN", "users.listen"),
    (
        "PHOTOSHARE_MEDIA_URL",
        "gateway.media_url and image_worker.media_url",
    ),
    ("PHOTOSHARE_MEDIA_LISTEN", "media.listen"),
    ("PHOTOSHARE_MEDIA_PUBLIC_BASE_URL", "media.public_base_url"),
    ("PHOTOSHARE_IMAGE_WORKER_LISTEN", "image_worker.listen"),
    (
        "PHOTOSHARE_GRAPH_URL",
        "gateway.graph_url and feed.graph_url",
    ),
    ("PHOTOSHARE_GRAPH_LISTEN", "graph.listen"),
    ("PHOTOSHARE_ENGAGEMENT_URL", "gateway.engagement_url"),
    ("PHOTOSHARE_ENGAGEMENT_LISTEN", "engagement.listen"),
    ("PHOTOSHARE_FEED_URL", "gateway.feed_url"),
    ("PHOTOSHARE_FEED_LISTEN", "feed.listen"),
    ("PHOTOSHARE_FEED_WORKER_LISTEN", "feed.worker_listen"),
    ("PHOTOSHARE_FEED_FANOUT_THRESHOLD", "feed.fanout_threshold"),
    ("PHOTOSHARE_FEED_ACTIVE_DAYS", "feed.active_days"),
    ("PHOTOSHARE_FEED_CACHE_CAP", "feed.cache_cap"),
    ("PHOTOSHARE_FEED_REDIS_KEY_PREFIX", "feed.redis_key_prefix"),
    (
        "PHOTOSHARE_LOG_FORMAT",
        "telemetry.log_format (json | text)",
    ),
    ("PHOTOSHARE_LOG", "telemetry.log_filter"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "telemetry.otlp_endpoint"),
];

pub(crate) fn apply_overrides(
    config: &mut Config,
    env: &HashMap<String, String>,
) -> Result<(), ConfigError> {
    let get = |var: &str| env.get(var).map(String::as_str).filter(|v| !v.is_empty());
    let text = |var: &str| get(var).map(str::to_owned);

    if let Some(dir) = get("PHOTOSHARE_DATA_DIR") {
        config.data_dir = PathBuf::from(dir);
    }
    if let Some(value) = parsed_var::<u32>(env, "PHOTOSHARE_NODE_ID")? {
        config.node_id = Some(value);
    }
    let backends = &mut config.backends;
    override_with(&mut backends.postgres_url, text("PHOTOSHARE_POSTGRES_URL"));
    if let Some(prefix) = text("PHOTOSHARE_POSTGRES_DATABASE_PREFIX") {
        backends.postgres_database_prefix = prefix;
    }
    override_with(&mut backends.redis_url, text("PHOTOSHARE_REDIS_URL"));
    override_with(
        &mut backends.kafka_brokers,
        text("PHOTOSHARE_KAFKA_BROKERS"),
    );
    override_with(&mut backends.s3_endpoint, text("PHOTOSHARE_S3_ENDPOINT"));
    override_with(&mut backends.s3_bucket, text("PHOTOSHARE_S3_BUCKET"));
    override_with(&mut backends.s3_region, text("PHOTOSHARE_S3_REGION"));
    override_with(&mut backends.scylla_nodes, text("PHOTOSHARE_SCYLLA_NODES"));
    override_with(
        &mut backends.scylla_keyspace,
        text("PHOTOSHARE_SCYLLA_KEYSPACE"),
    );
    override_with(
        &mut backends.kafka_security_protocol,
        text("PHOTOSHARE_KAFKA_SECURITY_PROTOCOL"),
    );
    override_with(
        &mut backends.kafka_sasl_mechanism,
        text("PHOTOSHARE_KAFKA_SASL_MECHANISM"),
    );
    override_with(
        &mut backends.kafka_sasl_username,
        text("PHOTOSHARE_KAFKA_SASL_USERNAME"),
    );
    override_with(
        &mut backends.kafka_sasl_password,
        text("PHOTOSHARE_KAFKA_SASL_PASSWORD"),
    );
    if let Some(path) = get("PHOTOSHARE_JWT_SIGNING_KEY_FILE") {
        config.auth.signing_key_file = Some(PathBuf::from(path));
    }
    if let Some(addr) = parsed_var(env, "PHOTOSHARE_GATEWAY_LISTEN")? {
        config.gateway.listen = addr;
    }
    if let Some(url) = text("PHOTOSHARE_USERS_URL") {
        config.gateway.users_url = url;
    }
    if let Some(addr) = parsed_var(env, "PHOTOSHARE_USERS_LISTEN")? {
        config.users.listen = addr;
    }
    if let Some(url) = text("PHOTOSHARE_MEDIA_URL") {
        config.gateway.media_url = url.clone();
        config.image_worker.media_url = url;
    }
    if let Some(addr) = parsed_var(env, "PHOTOSHARE_MEDIA_LISTEN")? {
        config.media.listen = addr;
    }
    override_with(
        &mut config.media.public_base_url,
        text("PHOTOSHARE_MEDIA_PUBLIC_BASE_URL"),
    );
    if let Some(addr) = parsed_var(env, "PHOTOSHARE_IMAGE_WORKER_LISTEN")? {
        config.image_worker.listen = addr;
    }
    if let Some(url) = text("PHOTOSHARE_GRAPH_URL") {
        config.gateway.graph_url = url.clone();
        config.feed.graph_url = url;
    }
    if let Some(addr) = parsed_var(env, "PHOTOSHARE_GRAPH_LISTEN")? {
        config.graph.listen = addr;
    }
    if let Some(url) = text("PHOTOSHARE_ENGAGEMENT_URL") {
        config.gateway.engagement_url = url;
    }
    if let Some(addr) = parsed_var(env, "PHOTOSHARE_ENGAGEMENT_LISTEN")? {
        config.engagement.listen = addr;
    }
    if let Some(url) = text("PHOTOSHARE_FEED_URL") {
        config.gateway.feed_url = url;
    }
    let feed = &mut config.feed;
    if let Some(addr) = parsed_var(env, "PHOTOSHARE_FEED_LISTEN")? {
        feed.listen = addr;
    }
    if let Some(addr) = parsed_var(env, "PHOTOSHARE_FEED_WORKER_LISTEN")? {
        feed.worker_listen = addr;
    }
    if let Some(value) = parsed_var(env, "PHOTOSHARE_FEED_FANOUT_THRESHOLD")? {
        feed.fanout_threshold = value;
    }
    if let Some(value) = parsed_var(env, "PHOTOSHARE_FEED_ACTIVE_DAYS")? {
        feed.active_days = value;
    }
    if let Some(value) = parsed_var(env, "PHOTOSHARE_FEED_CACHE_CAP")? {
        feed.cache_cap = value;
    }
    if let Some(prefix) = text("PHOTOSHARE_FEED_REDIS_KEY_PREFIX") {
        feed.redis_key_prefix = prefix;
    }
    if let Some(format) = get("PHOTOSHARE_LOG_FORMAT") {
        config.telemetry.log_format = match format {
            "json" => LogFormat::Json,
            "text" => LogFormat::Text,
            other => {
                return Err(ConfigError::Env {
                    var: "PHOTOSHARE_LOG_FORMAT",
                    reason: format!("`{other}` is neither `json` nor `text`"),
                })
            }
        };
    }
    if let Some(filter) = text("PHOTOSHARE_LOG") {
        config.telemetry.log_filter = filter;
    }
    override_with(
        &mut config.telemetry.otlp_endpoint,
        text("OTEL_EXPORTER_OTLP_ENDPOINT"),
    );
    Ok(())
}

fn override_with(slot: &mut Option<String>, value: Option<String>) {
    if value.is_some() {
        *slot = value;
    }
}

fn parsed_var<T: FromStr>(
    env: &HashMap<String, String>,
    var: &'static str,
) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match env.get(var).map(String::as_str).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|error: T::Err| ConfigError::Env {
                var,
                reason: format!("`{text}`: {error}"),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_wins_over_the_file() {
        let mut config: Config = toml::from_str(
            "[backends]\npostgres_url = \"postgres://file\"\n[gateway]\nlisten = \"0.0.0.0:1\"\n",
        )
        .unwrap();
        apply_overrides(
            &mut config,
            &env(&[
                ("PHOTOSHARE_POSTGRES_URL", "postgres://env@db:5432"),
                ("PHOTOSHARE_GATEWAY_LISTEN", "127.0.0.1:9000"),
                ("PHOTOSHARE_REDIS_URL", "redis://cache:6379"),
                ("PHOTOSHARE_NODE_ID", "12"),
            ]),
        )
        .unwrap();
        assert_eq!(
            config.backends.postgres_url.as_deref(),
            Some("postgres://env@db:5432")
        );
        assert_eq!(
            config.backends.redis_url.as_deref(),
            Some("redis://cache:6379")
        );
        assert_eq!(config.gateway.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(config.node_id, Some(12));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let mut config = Config::default();
        config.backends.postgres_url = Some("postgres://kept".into());
        apply_overrides(&mut config, &env(&[("PHOTOSHARE_POSTGRES_URL", "")])).unwrap();
        assert_eq!(
            config.backends.postgres_url.as_deref(),
            Some("postgres://kept")
        );
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let mut config = Config::default();
        let error = apply_overrides(&mut config, &env(&[("PHOTOSHARE_GATEWAY_LISTEN", "nope")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("PHOTOSHARE_GATEWAY_LISTEN"), "{error}");
        let error = apply_overrides(&mut config, &env(&[("PHOTOSHARE_LOG_FORMAT", "xml")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("PHOTOSHARE_LOG_FORMAT"), "{error}");
    }

    #[test]
    fn every_documented_variable_is_applied() {
        // A variable listed in ENV_VARS but forgotten in apply_overrides would be a lie to operators.
        let values: Vec<(&str, &str)> = ENV_VARS
            .iter()
            .map(|(var, _)| {
                let value = match *var {
                    "PHOTOSHARE_NODE_ID" => "5",
                    "PHOTOSHARE_GATEWAY_LISTEN"
                    | "PHOTOSHARE_USERS_LISTEN"
                    | "PHOTOSHARE_MEDIA_LISTEN"
                    | "PHOTOSHARE_IMAGE_WORKER_LISTEN"
                    | "PHOTOSHARE_GRAPH_LISTEN"
                    | "PHOTOSHARE_ENGAGEMENT_LISTEN"
                    | "PHOTOSHARE_FEED_LISTEN"
                    | "PHOTOSHARE_FEED_WORKER_LISTEN" => "127.0.0.1:7",
                    "PHOTOSHARE_FEED_FANOUT_THRESHOLD"
                    | "PHOTOSHARE_FEED_ACTIVE_DAYS"
                    | "PHOTOSHARE_FEED_CACHE_CAP" => "3",
                    "PHOTOSHARE_LOG_FORMAT" => "text",
                    _ => "x://set",
                };
                (*var, value)
            })
            .collect();
        let mut config = Config::default();
        apply_overrides(&mut config, &env(&values)).unwrap();
        let debug = format!("{config:?}");
        let text_vars = values
            .iter()
            .filter(|(_, value)| *value == "x://set")
            .count();
        // The media and graph URLs are applied in two places each.
        assert_eq!(debug.matches("x://set").count(), text_vars + 2, "{debug}");
        assert_eq!(config.feed.fanout_threshold, 3);
        assert_eq!(config.feed.cache_cap, 3);
        assert_eq!(config.feed.worker_listen.to_string(), "127.0.0.1:7");
        assert_eq!(config.telemetry.log_format, LogFormat::Text);
        assert_eq!(config.users.listen.to_string(), "127.0.0.1:7");
    }
}
