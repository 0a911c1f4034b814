//! The event bus the configuration asks for: Kafka when `PHOTOSHARE_KAFKA_BROKERS` is set, else
//! the durable local log in the data directory.

use std::sync::Arc;
use std::time::Duration;

use photoshare_config::Config;

use crate::{EventBus, EventError, KafkaBus, KafkaSettings, LocalLog};

pub async fn bus_from_config(config: &Config) -> Result<Arc<dyn EventBus>, EventError> {
    match &config.backends.kafka_brokers {
        Some(brokers) => {
            let settings = KafkaSettings {
                partitions: config.events.kafka_partitions,
                replication: config.events.kafka_replication,
                session_timeout: Duration::from_millis(config.events.kafka_session_timeout_ms),
                security: kafka_security(&config.backends),
                ..KafkaSettings::new(brokers.clone())
            };
            Ok(Arc::new(KafkaBus::new(settings)?))
        }
        None => Ok(Arc::new(LocalLog::open(&config.data_dir).await?)),
    }
}

/// The configured Kafka security settings as librdkafka properties.
fn kafka_security(backends: &photoshare_config::Backends) -> Vec<(String, String)> {
    let password = backends
        .kafka_sasl_password
        .as_ref()
        .map(|password| password.expose().to_owned());
    [
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
    .collect()
}
