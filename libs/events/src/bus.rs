//! The event bus as the services see it: publish, and subscribe as a consumer group.

use async_trait::async_trait;

use crate::{EventError, Message};

/// A message handed to a consumer, with where it sits so that it can be committed.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub message: Message,
    pub(crate) position: Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Position {
    /// The row id in the local log.
    Local(i64),
    /// Where the record sits in Kafka.
    Kafka { partition: i32, offset: i64 },
}

#[async_trait]
pub trait EventBus: Send + Sync {
    /// Returns once the bus has durably accepted the message.
    async fn publish(&self, message: &Message) -> Result<(), EventError>;

    /// Joins consumer group `group` on `topics`. A new group starts from the beginning.
    async fn subscribe(
        &self,
        group: &str,
        topics: &[String],
    ) -> Result<Box<dyn Subscription>, EventError>;
}

#[async_trait]
pub trait Subscription: Send {
    /// The next message. What was delivered but not committed is delivered again after a restart.
    async fn next(&mut self) -> Result<Delivery, EventError>;

    /// Marks `delivery`, and everything before it on its topic, as handled by this group.
    async fn commit(&mut self, delivery: &Delivery) -> Result<(), EventError>;
}
