//! Environment overrides. The variable names are part of the operator contract: every
//! deployment manifest and every later service uses them, so they never change meaning.
//! An empty value counts as unset, as Kubernetes and compose files often leave them.
//!
//! [`ENV_VARS`] is the one table: `photoshare --help` prints it and [`apply_overrides`] applies
//! it, so a variable cannot be documented without being read, or read without being documented.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use crate::{Config, ConfigError, LogFormat};

/// One environment variable: its name, the setting it overrides (as `--help` shows it) and how.
pub struct EnvVar {
    pub name: &'static str,
    pub setting: &'static str,
    /// Sets the value; `Err` says why the text is not a valid value.
    apply: fn(&mut Config, &str) -> Result<(), String>,
}

impl EnvVar {
    const fn new(
        name: &'static str,
        setting: &'static str,
        apply: fn(&mut Config, &str) -> Result<(), String>,
    ) -> EnvVar {
        EnvVar {
            name,
            setting,
            apply,
        }
    }
}

/// Every variable read, with what it sets (printed by `photoshare --help` and the README).
pub const ENV_VARS: &[EnvVar] = &[
    EnvVar::new("PHOTOSHARE_DATA_DIR", "data_dir", |c, v| {
        set(&mut c.data_dir, v.into())
    }),
    EnvVar::new("PHOTOSHARE_NODE_ID", "node_id", |c, v| {
        set(&mut c.node_id, Some(parse(v)?))
    }),
    EnvVar::new(
        "PHOTOSHARE_POSTGRES_URL",
        "backends.postgres_url",
        |c, v| set(&mut c.backends.postgres_url, Some(v.into())),
    ),
    EnvVar::new(
        "PHOTOSHARE_POSTGRES_DATABASE_PREFIX",
        "backends.postgres_database_prefix",
        |c, v| set(&mut c.backends.postgres_database_prefix, v.into()),
    ),
    EnvVar::new("PHOTOSHARE_REDIS_URL", "backends.redis_url", |c, v| {
        set(&mut c.backends.redis_url, Some(v.into()))
    }),
    EnvVar::new(
        "PHOTOSHARE_KAFKA_BROKERS",
        "backends.kafka_brokers",
        |c, v| set(&mut c.backends.kafka_brokers, Some(v.into())),
    ),
    EnvVar::new("PHOTOSHARE_S3_ENDPOINT", "backends.s3_endpoint", |c, v| {
        set(&mut c.backends.s3_endpoint, Some(v.into()))
    }),
    EnvVar::new("PHOTOSHARE_S3_BUCKET", "backends.s3_bucket", |c, v| {
        set(&mut c.backends.s3_bucket, Some(v.into()))
    }),
    EnvVar::new("PHOTOSHARE_S3_REGION", "backends.s3_region", |c, v| {
        set(&mut c.backends.s3_region, Some(v.into()))
    }),
    EnvVar::new(
        "PHOTOSHARE_SCYLLA_NODES",
        "backends.scylla_nodes",
        |c, v| set(&mut c.backends.scylla_nodes, Some(v.into())),
    ),
    EnvVar::new(
        "PHOTOSHARE_SCYLLA_KEYSPACE",
        "backends.scylla_keyspace",
        |c, v| set(&mut c.backends.scylla_keyspace, Some(v.into())),
    ),
    EnvVar::new(
        "PHOTOSHARE_KAFKA_SECURITY_PROTOCOL",
        "backends.kafka_security_protocol",
        |c, v| set(&mut c.backends.kafka_security_protocol, Some(v.into())),
    ),
    EnvVar::new(
        "PHOTOSHARE_KAFKA_SASL_MECHANISM",
        "backends.kafka_sasl_mechanism",
        |c, v| set(&mut c.backends.kafka_sasl_mechanism, Some(v.into())),
    ),
    EnvVar::new(
        "PHOTOSHARE_KAFKA_SASL_USERNAME",
        "backends.kafka_sasl_username",
        |c, v| set(&mut c.backends.kafka_sasl_username, Some(v.into())),
    ),
    EnvVar::new(
        "PHOTOSHARE_KAFKA_SASL_PASSWORD",
        "backends.kafka_sasl_password",
        |c, v| {
            set(
                &mut c.backends.kafka_sasl_password,
                Some(v.to_owned().into()),
            )
        },
    ),
    EnvVar::new(
        "PHOTOSHARE_JWT_SIGNING_KEY_FILE",
        "auth.signing_key_file",
        |c, v| set(&mut c.auth.signing_key_file, Some(v.into())),
    ),
    EnvVar::new(
        "PHOTOSHARE_PASSWORD_HASH_CONCURRENCY",
        "auth.password_hash_concurrency",
        |c, v| set(&mut c.auth.password_hash_concurrency, parse(v)?),
    ),
    EnvVar::new(
        "PHOTOSHARE_PASSWORD_HASH_QUEUE",
        "auth.password_hash_queue",
        |c, v| set(&mut c.auth.password_hash_queue, parse(v)?),
    ),
    EnvVar::new(
        "PHOTOSHARE_AUTH_RATE_LIMIT_PER_MINUTE",
        "gateway.auth_rate_limit_per_minute",
        |c, v| set(&mut c.gateway.auth_rate_limit_per_minute, parse(v)?),
    ),
    EnvVar::new(
        "PHOTOSHARE_LOGIN_ACCOUNT_RATE_LIMIT_PER_MINUTE",
        "gateway.login_account_rate_limit_per_minute",
        |c, v| {
            set(
                &mut c.gateway.login_account_rate_limit_per_minute,
                parse(v)?,
            )
        },
    ),
    EnvVar::new(
        "PHOTOSHARE_WRITE_RATE_LIMIT_PER_MINUTE",
        "gateway.write_rate_limit_per_minute",
        |c, v| set(&mut c.gateway.write_rate_limit_per_minute, parse(v)?),
    ),
    EnvVar::new(
        "PHOTOSHARE_TRUST_FORWARDED_FOR",
        "gateway.trust_forwarded_for (true | false)",
        |c, v| set(&mut c.gateway.trust_forwarded_for, parse_flag(v)?),
    ),
    EnvVar::new(
        "PHOTOSHARE_REVOCATION_POLL_MS",
        "gateway.revocation_poll_ms",
        |c, v| set(&mut c.gateway.revocation_poll_ms, parse(v)?),
    ),
    EnvVar::new(
        "PHOTOSHARE_REVOCATION_STALE_AFTER_MS",
        "gateway.revocation_stale_after_ms",
        |c, v| set(&mut c.gateway.revocation_stale_after_ms, parse(v)?),
    ),
    EnvVar::new(
        "PHOTOSHARE_METRICS_TOKEN",
        "gateway.metrics_token",
        |c, v| set(&mut c.gateway.metrics_token, Some(v.to_owned().into())),
    ),
    EnvVar::new(
        "PHOTOSHARE_METRICS_PRIVATE",
        "gateway.metrics_private (true | false)",
        |c, v| set(&mut c.gateway.metrics_private, parse_flag(v)?),
    ),
    EnvVar::new("PHOTOSHARE_GATEWAY_LISTEN", "gateway.listen", |c, v| {
        set(&mut c.gateway.listen, parse(v)?)
    }),
    EnvVar::new("PHOTOSHARE_USERS_URL", "gateway.users_url", |c, v| {
        set(&mut c.gateway.users_url, v.into())
    }),
    EnvVar::new("PHOTOSHARE_USERS_LISTEN", "users.listen", |c, v| {
        set(&mut c.users.listen, parse(v)?)
    }),
    EnvVar::new(
        "PHOTOSHARE_MEDIA_URL",
        "gateway.media_url and image_worker.media_url",
        |c, v| {
            c.gateway.media_url = v.into();
            set(&mut c.image_worker.media_url, v.into())
        },
    ),
    EnvVar::new("PHOTOSHARE_MEDIA_LISTEN", "media.listen", |c, v| {
        set(&mut c.media.listen, parse(v)?)
    }),
    EnvVar::new(
        "PHOTOSHARE_MEDIA_PUBLIC_BASE_URL",
        "media.public_base_url",
        |c, v| set(&mut c.media.public_base_url, Some(v.into())),
    ),
    EnvVar::new(
        "PHOTOSHARE_IMAGE_WORKER_LISTEN",
        "image_worker.listen",
        |c, v| set(&mut c.image_worker.listen, parse(v)?),
    ),
    EnvVar::new(
        "PHOTOSHARE_GRAPH_URL",
        "gateway.graph_url and feed.graph_url",
        |c, v| {
            c.gateway.graph_url = v.into();
            set(&mut c.feed.graph_url, v.into())
        },
    ),
    EnvVar::new("PHOTOSHARE_GRAPH_LISTEN", "graph.listen", |c, v| {
        set(&mut c.graph.listen, parse(v)?)
    }),
    EnvVar::new(
        "PHOTOSHARE_ENGAGEMENT_URL",
        "gateway.engagement_url",
        |c, v| set(&mut c.gateway.engagement_url, v.into()),
    ),
    EnvVar::new(
        "PHOTOSHARE_ENGAGEMENT_LISTEN",
        "engagement.listen",
        |c, v| set(&mut c.engagement.listen, parse(v)?),
    ),
    EnvVar::new("PHOTOSHARE_FEED_URL", "gateway.feed_url", |c, v| {
        set(&mut c.gateway.feed_url, v.into())
    }),
    EnvVar::new("PHOTOSHARE_FEED_LISTEN", "feed.listen", |c, v| {
        set(&mut c.feed.listen, parse(v)?)
    }),
    EnvVar::new(
        "PHOTOSHARE_FEED_WORKER_LISTEN",
        "feed.worker_listen",
        |c, v| set(&mut c.feed.worker_listen, parse(v)?),
    ),
    EnvVar::new(
        "PHOTOSHARE_FEED_FANOUT_THRESHOLD",
        "feed.fanout_threshold",
        |c, v| set(&mut c.feed.fanout_threshold, parse(v)?),
    ),
    EnvVar::new("PHOTOSHARE_FEED_ACTIVE_DAYS", "feed.active_days", |c, v| {
        set(&mut c.feed.active_days, parse(v)?)
    }),
    EnvVar::new("PHOTOSHARE_FEED_CACHE_CAP", "feed.cache_cap", |c, v| {
        set(&mut c.feed.cache_cap, parse(v)?)
    }),
    EnvVar::new(
        "PHOTOSHARE_FEED_REDIS_KEY_PREFIX",
        "feed.redis_key_prefix",
        |c, v| set(&mut c.feed.redis_key_prefix, v.into()),
    ),
    EnvVar::new(
        "PHOTOSHARE_LOG_FORMAT",
        "telemetry.log_format (json | text)",
        |c, v| {
            let format = match v {
                "json" => LogFormat::Json,
                "text" => LogFormat::Text,
                other => return Err(format!("`{other}` is neither `json` nor `text`")),
            };
            set(&mut c.telemetry.log_format, format)
        },
    ),
    EnvVar::new("PHOTOSHARE_LOG", "telemetry.log_filter", |c, v| {
        set(&mut c.telemetry.log_filter, v.into())
    }),
    EnvVar::new(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "telemetry.otlp_endpoint",
        |c, v| set(&mut c.telemetry.otlp_endpoint, Some(v.into())),
    ),
];

/// Applies every variable of [`ENV_VARS`] that `env` sets to a non-empty value.
pub(crate) fn apply_overrides(
    config: &mut Config,
    env: &HashMap<String, String>,
) -> Result<(), ConfigError> {
    for var in ENV_VARS {
        let Some(value) = env.get(var.name).filter(|value| !value.is_empty()) else {
            continue;
        };
        (var.apply)(config, value).map_err(|reason| ConfigError::Env {
            var: var.name,
            reason,
        })?;
    }
    Ok(())
}

fn set<T>(slot: &mut T, value: T) -> Result<(), String> {
    *slot = value;
    Ok(())
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`), as manifests tend to write flags.
fn parse_flag(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!("`{text}` is neither `true` nor `false`")),
    }
}

fn parse<T: FromStr>(text: &str) -> Result<T, String>
where
    T::Err: Display,
{
    text.parse().map_err(|error| format!("`{text}`: {error}"))
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
    fn the_password_from_the_environment_is_kept_secret() {
        let mut config = Config::default();
        apply_overrides(
            &mut config,
            &env(&[("PHOTOSHARE_KAFKA_SASL_PASSWORD", "hunter2")]),
        )
        .unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
        let password = config.backends.kafka_sasl_password.unwrap();
        assert_eq!(password.expose(), "hunter2");
    }

    /// The lines of `{config:#?}` that are not in the default configuration's: those outside
    /// a longest common subsequence of the two, so a field that grows lines shifts nothing.
    fn changed_lines(config: &Config) -> Vec<String> {
        let before: Vec<String> = format!("{:#?}", Config::default())
            .lines()
            .map(|line| line.trim().to_owned())
            .collect();
        let after: Vec<String> = format!("{config:#?}")
            .lines()
            .map(|line| line.trim().to_owned())
            .collect();
        // common[i][j]: the longest common subsequence of after[i..] and before[j..].
        let mut common = vec![vec![0usize; before.len() + 1]; after.len() + 1];
        for i in (0..after.len()).rev() {
            for j in (0..before.len()).rev() {
                common[i][j] = if after[i] == before[j] {
                    common[i + 1][j + 1] + 1
                } else {
                    common[i + 1][j].max(common[i][j + 1])
                };
            }
        }
        let (mut i, mut j, mut changed) = (0, 0, Vec::new());
        while i < after.len() {
            if j < before.len() && after[i] == before[j] {
                i += 1;
                j += 1;
            } else if j < before.len() && common[i][j + 1] >= common[i + 1][j] {
                j += 1;
            } else {
                changed.push(after[i].clone());
                i += 1;
            }
        }
        changed
    }

    #[test]
    fn every_documented_variable_is_applied() {
        // A variable listed in ENV_VARS that set nothing, or something other than what it says,
        // would be a lie to operators. Each is applied alone, with the first sample value that
        // is valid for it; every setting it names must then differ from the default.
        const SAMPLES: [&str; 5] = ["127.0.0.1:7", "3", "text", "true", "false"];
        for var in ENV_VARS {
            let settings = var.setting.split(" (").next().unwrap_or_default();
            // The first valid sample that changes every setting the variable names.
            let changes_all = |config: &Config| {
                let changed = changed_lines(config);
                settings.split(" and ").all(|setting| {
                    let field = setting.rsplit('.').next().unwrap_or_default();
                    let named = settings
                        .split(" and ")
                        .filter(|other| other.rsplit('.').next() == Some(field))
                        .count();
                    let shown = changed
                        .iter()
                        .filter(|line| line.starts_with(&format!("{field}:")))
                        .count();
                    shown >= named
                })
            };
            let mut tried = Vec::new();
            let applied = SAMPLES.iter().any(|sample| {
                let mut config = Config::default();
                match apply_overrides(&mut config, &env(&[(var.name, sample)])) {
                    Ok(()) => {
                        tried.push(changed_lines(&config));
                        changes_all(&config)
                    }
                    Err(_) => false,
                }
            });
            assert!(
                applied,
                "{} did not change {settings}; changes seen per valid sample: {tried:?}",
                var.name
            );
        }
    }

    #[test]
    fn every_variable_is_named_once() {
        let mut names: Vec<&str> = ENV_VARS.iter().map(|var| var.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ENV_VARS.len());
    }
}
