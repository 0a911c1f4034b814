//! Running a consumer: each message is handled, retried with backoff while the failure looks
//! transient, dead-lettered to `<topic>.dlq` when it does not or when retries run out, and only
//! then committed. A shutdown mid-retry leaves the message uncommitted, so it comes back.

use std::sync::Arc;

use async_trait::async_trait;
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

/// Consumes `topics` as `group` until `shutdown`.
pub async fn run_consumer(
    bus: Arc<dyn EventBus>,
    group: String,
    topics: Vec<String>,
    handler: Arc<dyn Handler>,
    backoff: Backoff,
    shutdown: CancellationToken,
) -> Result<(), EventError> {
    let mut subscription = bus.subscribe(&group, &topics).await?;
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
        let settled = handle_with_retries(&*bus, &*handler, &delivery, backoff, &shutdown)
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
    bus: &dyn EventBus,
    handler: &dyn Handler,
    delivery: &Delivery,
    backoff: Backoff,
    shutdown: &CancellationToken,
) -> Result<bool, EventError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let error = match handler.handle(&delivery.message).await {
            Ok(()) => return Ok(true),
            Err(error) => error,
        };
        let give_up = matches!(error, HandlerError::Poison(_)) || attempts >= backoff.max_attempts;
        if give_up {
            tracing::error!(%error, attempts, "dead-lettering the message");
            dead_letter(bus, &delivery.message, &error, attempts).await?;
            return Ok(true);
        }
        let wait = backoff.wait(attempts, Backoff::random_unit());
        tracing::warn!(%error, attempts, wait_ms = wait.as_millis() as u64, "handler failed; retrying");
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(false),
            _ = tokio::time::sleep(wait) => {}
        }
    }
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
