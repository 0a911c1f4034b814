//! The production event bus: Kafka through rdkafka (librdkafka). The producer is idempotent with
//! `acks=all`. Consumers join a group and mark each offset only after it was handled; librdkafka
//! commits the marked offsets in the background, when partitions are revoked and when the consumer
//! closes, so a commit never waits for the broker on a runtime thread. Topics are created on
//! first use (with the configured partitions and replication) because managed clusters often
//! disable auto-creation.

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message as _, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{Offset, TopicPartitionList};

use crate::bus::Position;
use crate::{Delivery, EventBus, EventError, Message, Subscription};

/// How often librdkafka commits the offsets marked as handled. A crash loses at most this much
/// progress: those messages are delivered again, which at-least-once consumers tolerate.
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// Shown in place of a secret in `Debug` output.
const REDACTED: &str = "<redacted>";

#[derive(Clone)]
pub struct KafkaSettings {
    /// `host:port[,host:port...]`.
    pub brokers: String,
    pub partitions: i32,
    pub replication: i32,
    /// A consumer that misses heartbeats this long leaves its group. Joining a group takes
    /// about half of it on some brokers, so tests use a short one.
    pub session_timeout: Duration,
    /// How long a publish may wait for the broker before it fails (and the outbox retries).
    pub publish_timeout: Duration,
    /// librdkafka security properties (`security.protocol`, `sasl.mechanism`, `sasl.username`,
    /// `sasl.password`) set on every client; empty on a plaintext broker. `Debug` shows the
    /// secret ones as `<redacted>`.
    pub security: Vec<(String, String)>,
}

/// Whether a librdkafka property holds a secret (`sasl.password`, `ssl.key.password`,
/// `sasl.oauthbearer.client.secret`, ...).
fn is_secret(property: &str) -> bool {
    property.contains("password") || property.contains("secret")
}

impl fmt::Debug for KafkaSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured, so a new field cannot be added without deciding how it is shown.
        let KafkaSettings {
            brokers,
            partitions,
            replication,
            session_timeout,
            publish_timeout,
            security,
        } = self;
        let security: Vec<(&str, &str)> = security
            .iter()
            .map(|(property, value)| {
                let shown = if is_secret(property) {
                    REDACTED
                } else {
                    value.as_str()
                };
                (property.as_str(), shown)
            })
            .collect();
        f.debug_struct("KafkaSettings")
            .field("brokers", brokers)
            .field("partitions", partitions)
            .field("replication", replication)
            .field("session_timeout", session_timeout)
            .field("publish_timeout", publish_timeout)
            .field("security", &security)
            .finish()
    }
}

impl KafkaSettings {
    pub fn new(brokers: impl Into<String>) -> KafkaSettings {
        KafkaSettings {
            brokers: brokers.into(),
            partitions: 6,
            replication: 1,
            session_timeout: Duration::from_secs(10),
            publish_timeout: Duration::from_secs(10),
            security: Vec::new(),
        }
    }

    /// A client configuration for these brokers, with the security properties applied.
    fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        for (key, value) in &self.security {
            config.set(key, value);
        }
        config
    }
}

pub struct KafkaBus {
    settings: KafkaSettings,
    producer: FutureProducer,
    admin: AdminClient<DefaultClientContext>,
    known_topics: Mutex<HashSet<String>>,
}

fn broker_error(error: impl std::fmt::Display) -> EventError {
    EventError::Broker(error.to_string())
}

impl KafkaBus {
    pub fn new(settings: KafkaSettings) -> Result<KafkaBus, EventError> {
        let timeout_ms = settings.publish_timeout.as_millis().to_string();
        let producer: FutureProducer = settings
            .client_config()
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", &timeout_ms)
            .create()
            .map_err(broker_error)?;
        let admin: AdminClient<DefaultClientContext> =
            settings.client_config().create().map_err(broker_error)?;
        Ok(KafkaBus {
            settings,
            producer,
            admin,
            known_topics: Mutex::new(HashSet::new()),
        })
    }

    /// Creates the topics that do not exist yet.
    pub async fn ensure_topics(&self, topics: &[String]) -> Result<(), EventError> {
        let missing: Vec<&String> = {
            let known = self.known_topics.lock().expect("lock poisoned");
            topics
                .iter()
                .filter(|topic| !known.contains(*topic))
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let new_topics: Vec<NewTopic> = missing
            .iter()
            .map(|topic| {
                NewTopic::new(
                    topic,
                    self.settings.partitions,
                    TopicReplication::Fixed(self.settings.replication),
                )
            })
            .collect();
        // Bounded like a publish, so an unreachable broker fails fast and the caller backs off.
        let timeout = Timeout::After(self.settings.publish_timeout);
        let options = AdminOptions::new()
            .operation_timeout(Some(timeout))
            .request_timeout(Some(timeout));
        let results = self
            .admin
            .create_topics(&new_topics, &options)
            .await
            .map_err(broker_error)?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(EventError::Broker(format!(
                        "creating topic {topic}: {code}"
                    )))
                }
            }
        }
        self.known_topics
            .lock()
            .expect("lock poisoned")
            .extend(missing.into_iter().cloned());
        Ok(())
    }
}

#[async_trait]
impl EventBus for KafkaBus {
    async fn publish(&self, message: &Message) -> Result<(), EventError> {
        self.ensure_topics(std::slice::from_ref(&message.topic))
            .await?;
        let mut headers = OwnedHeaders::new_with_capacity(message.headers.len());
        for (key, value) in &message.headers {
            headers = headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            });
        }
        let record = FutureRecord::to(&message.topic)
            .key(message.key.as_bytes())
            .payload(&message.value)
            .headers(headers);
        self.producer
            .send(record, Timeout::After(self.settings.publish_timeout))
            .await
            .map_err(|(error, _)| broker_error(error))?;
        Ok(())
    }

    async fn subscribe(
        &self,
        group: &str,
        topics: &[String],
    ) -> Result<Box<dyn Subscription>, EventError> {
        self.ensure_topics(topics).await?;
        let session_ms = self.settings.session_timeout.as_millis().max(1000);
        let heartbeat_ms = (session_ms / 10).max(100);
        let consumer: StreamConsumer = self
            .settings
            .client_config()
            .set("group.id", group)
            // At-least-once without a blocking commit per message: librdkafka commits only the
            // offsets `commit` stored (never what was merely delivered), every COMMIT_INTERVAL,
            // on a rebalance before giving partitions up, and on close.
            .set("enable.auto.commit", "true")
            .set("enable.auto.offset.store", "false")
            .set(
                "auto.commit.interval.ms",
                COMMIT_INTERVAL.as_millis().to_string(),
            )
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", session_ms.to_string())
            .set("heartbeat.interval.ms", heartbeat_ms.to_string())
            .create()
            .map_err(broker_error)?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&names).map_err(broker_error)?;
        Ok(Box::new(KafkaSubscription {
            consumer: Some(consumer),
        }))
    }
}

struct KafkaSubscription {
    /// `None` only once dropped: see [`Drop`] below.
    consumer: Option<StreamConsumer>,
}

impl KafkaSubscription {
    fn consumer(&self) -> Result<&StreamConsumer, EventError> {
        self.consumer
            .as_ref()
            .ok_or_else(|| EventError::Broker("the subscription is closed".into()))
    }
}

impl Drop for KafkaSubscription {
    /// Closing a consumer commits its stored offsets and leaves the group, waiting for the
    /// broker; if the broker dies at that moment, librdkafka waits for minutes or more. So it runs on
    /// a thread of its own: no runtime thread waits, and neither does a shutdown. The group moves
    /// the partitions on only after this member committed and left (or its session expired), so
    /// the next member still resumes after the last commit.
    fn drop(&mut self) {
        let Some(consumer) = self.consumer.take() else {
            return;
        };
        let closing = std::thread::Builder::new()
            .name("kafka-close".into())
            .spawn(move || drop(consumer));
        if let Err(error) = closing {
            // The consumer was dropped here, on this thread, with the closure.
            tracing::warn!(%error, "could not close the Kafka consumer on a thread of its own");
        }
    }
}

#[async_trait]
impl Subscription for KafkaSubscription {
    async fn next(&mut self) -> Result<Delivery, EventError> {
        let received = self.consumer()?.recv().await.map_err(broker_error)?;
        let headers = received
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| {
                        let value = header
                            .value
                            .map(String::from_utf8_lossy)
                            .unwrap_or_default();
                        (header.key.to_owned(), value.into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Delivery {
            message: Message {
                topic: received.topic().to_owned(),
                key: received
                    .key()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default()
                    .into_owned(),
                value: received.payload().unwrap_or_default().to_vec(),
                headers,
            },
            position: Position::Kafka {
                partition: received.partition(),
                offset: received.offset(),
            },
        })
    }

    /// Stores the offset after `delivery` for the background commit: a local step that never
    /// waits for the broker.
    async fn commit(&mut self, delivery: &Delivery) -> Result<(), EventError> {
        let Position::Kafka { partition, offset } = delivery.position else {
            return Err(EventError::Broker("a delivery of another bus".into()));
        };
        // Kafka commits the offset to resume from: the next one.
        let mut next = TopicPartitionList::new();
        next.add_partition_offset(
            &delivery.message.topic,
            partition,
            Offset::Offset(offset + 1),
        )
        .map_err(broker_error)?;
        match self.consumer()?.store_offsets(&next) {
            Ok(()) => Ok(()),
            // The partition went to another member in a rebalance; it resumes from the last
            // commit and delivers this message again, which at-least-once allows.
            Err(KafkaError::StoreOffset(
                RDKafkaErrorCode::State | RDKafkaErrorCode::UnknownPartition,
            )) => {
                tracing::info!(
                    topic = %delivery.message.topic,
                    partition,
                    offset,
                    "partition revoked before its offset was stored; it will be redelivered"
                );
                Ok(())
            }
            Err(error) => Err(broker_error(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secrets() {
        let settings = KafkaSettings {
            security: vec![
                ("security.protocol".into(), "SASL_SSL".into()),
                ("sasl.username".into(), "photoshare".into()),
                ("sasl.password".into(), "hunter2-s3cret".into()),
                ("ssl.key.password".into(), "another-s3cret".into()),
            ],
            ..KafkaSettings::new("broker-1:9096")
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cret"), "a secret leaked: {shown}");
        assert!(
            shown.contains(r#"("sasl.password", "<redacted>")"#),
            "{shown}"
        );
        assert!(
            shown.contains(r#"("sasl.username", "photoshare")"#),
            "{shown}"
        );
        assert!(
            shown.contains("SASL_SSL") && shown.contains("broker-1:9096"),
            "{shown}"
        );
        let pretty = format!("{settings:#?}");
        assert!(!pretty.contains("s3cret"), "a secret leaked: {pretty}");
    }
}
