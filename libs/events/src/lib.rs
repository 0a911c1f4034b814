//! Events between photoshare services: the message and its envelope, the transactional outbox
//! and its relay, an [`EventBus`] with two implementations — a durable local log for
//! `photoshare dev` and Kafka for production — and a consumer runner that retries with
//! exponential backoff and jitter and dead-letters poison messages to `<topic>.dlq`.
//!
//! Delivery is at-least-once everywhere: producers never dual-write (the outbox row commits with
//! the state change), consumers commit only after handling, so handlers must be idempotent. This
//! crate knows no topic's meaning; services own their payloads.

mod backoff;
mod bus;
mod consumer;
mod error;
mod kafka;
mod local;
mod message;
mod outbox;

pub use backoff::Backoff;
pub use bus::{Delivery, EventBus, Subscription};
pub use consumer::{run_consumer, Consumer, Handler, HandlerError};
pub use error::EventError;
pub use kafka::{KafkaBus, KafkaSettings};
pub use local::LocalLog;
pub use message::{
    Message, HEADER_DLQ_ATTEMPTS, HEADER_DLQ_ERROR, HEADER_EVENT_ID, HEADER_EVENT_TYPE,
};
pub use outbox::OUTBOX_MIGRATION;
pub use outbox::{enqueue, Relay};

/// The dead-letter topic of `topic`.
pub fn dead_letter_topic(topic: &str) -> String {
    format!("{topic}.dlq")
}
