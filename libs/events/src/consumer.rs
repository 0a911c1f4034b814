//! Running a consumer: each message is handled, retried with backoff while the failure looks
//! transient, dead-lettered to `<topic>.dlq` when it does not or when retries run out, and only
//! then committed. A shutdown mid-retry leaves the message uncommitted, so it comes back. Given
//! the service's [`Metrics`], it counts what happened to each message per topic and times every
//! attempt, so a worker's `/metrics` shows its work.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use photoshare_telemetry::{EventOutcome, Metrics};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{dead_letter_topic, Backoff, Delivery, EventBus, EventError, Message};
use crate::{HEADER_DLQ_ATTEMPTS, HEADER_DLQ_ERROR, HEADER_EVENT_ID};

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Might work later (a service or database is down): retried with backoff.
    #[error("transient: {0}")]
    Transient(String),
    /// Will never work (malformed payload, a bug): dead-lettered at once.
    #[error("poison: {0}")]
    Poison(String),
}

#[async_trait]
pub trait Handler: Send + Sync {
    /// Must be idempotent: the same message can arrive more than once.
    async fn handle(&self, message: &Message) -> Result<(), HandlerError>;
}

/// A consumer of some topics as one group, ready to [`Consumer::run`].
pub struct Consumer {
    bus: Arc<dyn EventBus>,
    group: String,
    topics: Vec<String>,
    handler: Arc<dyn Handler>,
    backoff: Backoff,
    metrics: Option<Metrics>,
}

impl Consumer {
    /// Consumes `topics` as `group` with `handler`, with the default backoff and no metrics.
    pub fn new(
        bus: Arc<dyn EventBus>,
        group: impl Into<String>,
        topics: Vec<String>,
        handler: Arc<dyn Handler>,
    ) -> Consumer {
        Consumer {
            bus,
            group: group.into(),
            topics,
            handler,
            backoff: Backoff::default(),
            metrics: None,
        }
    }

    pub fn backoff(mut self, backoff: Backoff) -> Consumer {
        self.backoff = backoff;
        self
    }

    /// Records every attempt into `metrics` (the service's own registry): handled, retried and
    /// dead-lettered counts per topic, and the handler's time.
    pub fn metrics(mut self, metrics: Metrics) -> Consumer {
        self.metrics = Some(metrics);
        self
    }

    /// Consumes until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), EventError> {
        let mut subscription = self.bus.subscribe(&self.group, &self.topics).await?;
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                next = subscription.next() => next?,
            };
            let span = tracing::info_span!(
                "event",
                topic = %delivery.message.topic,
                key = %delivery.message.key,
                event_id = delivery.message.header(HEADER_EVENT_ID).unwrap_or(""),
            );
            photoshare_telemetry::propagation::follow(&span, &delivery.message.headers);
            let settled = self
                .handle_with_retries(&delivery, &shutdown)
                .instrument(span)
                .await?;
            if !settled {
                return Ok(());
            }
            subscription.commit(&delivery).await?;
        }
    }

    /// `Ok(true)` when the message is done with (handled or dead-lettered); `Ok(false)` when
    /// shutdown interrupted the retries.
    async fn handle_with_retries(
        &self,
        delivery: &Delivery,
        shutdown: &CancellationToken,
    ) -> Result<bool, EventError> {
        let backoff = self.backoff;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let started = Instant::now();
            let error = match self.handler.handle(&delivery.message).await {
                Ok(()) => {
                    self.observe(delivery, EventOutcome::Handled, started);
                    return Ok(true);
                }
                Err(error) => error,
            };
            let give_up =
                matches!(error, HandlerError::Poison(_)) || attempts >= backoff.max_attempts;
            if give_up {
                self.observe(delivery, EventOutcome::DeadLettered, started);
                tracing::error!(%error, attempts, "dead-lettering the message");
                dead_letter(&*self.bus, &delivery.message, &error, attempts).await?;
                return Ok(true);
            }
            self.observe(delivery, EventOutcome::Retried, started);
            let wait = backoff.wait(attempts, Backoff::random_unit());
            tracing::warn!(%error, attempts, wait_ms = wait.as_millis() as u64, "handler failed; retrying");
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(false),
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    fn observe(&self, delivery: &Delivery, outcome: EventOutcome, started: Instant) {
        if let Some(metrics) = &self.metrics {
            metrics.observe_event(
                &self.group,
                &delivery.message.topic,
                outcome,
                started.elapsed().as_secs_f64(),
            );
        }
    }
}

/// Consumes `topics` as `group` until `shutdown`, without metrics: [`Consumer`] with the given
/// backoff.
pub async fn run_consumer(
    bus: Arc<dyn EventBus>,
    group: String,
    topics: Vec<String>,
    handler: Arc<dyn Handler>,
    backoff: Backoff,
    shutdown: CancellationToken,
) -> Result<(), EventError> {
    Consumer::new(bus, group, topics, handler)
        .backoff(backoff)
        .run(shutdown)
        .await
}

async fn dead_letter(
    bus: &dyn EventBus,
    message: &Message,
    error: &HandlerError,
    attempts: u32,
) -> Result<(), EventError> {
    let mut headers = message.headers.clone();
    headers.push((HEADER_DLQ_ERROR.to_owned(), error.to_string()));
    headers.push((HEADER_DLQ_ATTEMPTS.to_owned(), attempts.to_string()));
    bus.publish(&Message {
        topic: dead_letter_topic(&message.topic),
        key: message.key.clone(),
        value: message.value.clone(),
        headers,
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::LocalLog;

    /// Fails the first attempt at every message transiently; refuses `poison` outright.
    struct FlakyOnce {
        attempts: AtomicU32,
    }

    #[async_trait]
    impl Handler for FlakyOnce {
        async fn handle(&self, message: &Message) -> Result<(), HandlerError> {
            if message.key == "poison" {
                return Err(HandlerError::Poison("refused".into()));
            }
            match self.attempts.fetch_add(1, Ordering::SeqCst) % 2 {
                0 => Err(HandlerError::Transient("not yet".into())),
                _ => Ok(()),
            }
        }
    }

    fn message(topic: &str, key: &str) -> Message {
        Message {
            topic: topic.into(),
            key: key.into(),
            value: b"x".to_vec(),
            headers: Vec::new(),
        }
    }

    #[tokio::test]
    async fn the_services_metrics_count_each_outcome_per_topic() {
        let dir = tempfile::tempdir().unwrap();
        let log = LocalLog::open(dir.path()).await.unwrap();
        log.publish(&message("a", "1")).await.unwrap();
        log.publish(&message("b", "poison")).await.unwrap();
        log.publish(&message("a", "2")).await.unwrap();
        let metrics = Metrics::new();
        let shutdown = CancellationToken::new();
        let consumer = Consumer::new(
            Arc::new(log.clone()),
            "g",
            vec!["a".into(), "b".into()],
            Arc::new(FlakyOnce {
                attempts: AtomicU32::new(0),
            }),
        )
        .backoff(Backoff {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(1),
            max_attempts: 3,
        })
        .metrics(metrics.clone());
        let running = tokio::spawn(consumer.run(shutdown.clone()));

        let expected = [
            "photoshare_events_handled_total{group=\"g\",topic=\"a\"} 2",
            "photoshare_events_retried_total{group=\"g\",topic=\"a\"} 2",
            "photoshare_events_dead_lettered_total{group=\"g\",topic=\"b\"} 1",
            "photoshare_event_handler_duration_seconds_count{group=\"g\",outcome=\"handled\",topic=\"a\"} 2",
        ];
        let mut text = metrics.render();
        for _ in 0..500 {
            if expected.iter().all(|line| text.contains(line)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            text = metrics.render();
        }
        for line in expected {
            assert!(text.contains(line), "{line} missing from {text}");
        }
        assert!(!text.contains("photoshare_events_handled_total{group=\"g\",topic=\"b\"}"));
        shutdown.cancel();
        running.await.unwrap().unwrap();
    }
}
