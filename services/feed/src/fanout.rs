//! The fan-out worker: a consumer of `photo.published`, `photo.deleted`, `graph.followed` and
//! `graph.unfollowed` that keeps the durable store and the cached feeds up to date.
//!
//! Every step is idempotent and order-tolerant (events of different topics arrive in any
//! order, and more than once): the store keeps tombstones, cache writes add or remove exact
//! entries, and whatever a race leaves behind in a cache is filtered out at read time.

use std::sync::Arc;

use async_trait::async_trait;
use photoshare_events::{Handler, HandlerError, Message};
use photoshare_feed_store::{FeedCache, FeedEntry, PostStore};
use photoshare_proto::topics;
use photoshare_proto::Event as BusEvent;

use crate::error::FeedError;
use crate::graph::Graph;

/// The topics the worker consumes.
pub const TOPICS: [&str; 4] = [
    topics::PHOTO_PUBLISHED,
    topics::PHOTO_DELETED,
    topics::GRAPH_FOLLOWED,
    topics::GRAPH_UNFOLLOWED,
];

#[derive(Debug, Clone, Copy)]
pub struct FanOutSettings {
    /// Authors with more followers are not pushed.
    pub fanout_threshold: u64,
    /// Posts of a newly followed author copied into the follower's cache.
    pub backfill: usize,
}

pub struct FanOut {
    pub cache: Arc<dyn FeedCache>,
    pub posts: Arc<dyn PostStore>,
    pub graph: Graph,
    pub settings: FanOutSettings,
}

/// The event inside a message, decoded; anything malformed is poison.
enum Event {
    Published(FeedEntry),
    Deleted(FeedEntry),
    Followed { follower: u64, followee: u64 },
    Unfollowed { follower: u64, followee: u64 },
}

fn decode(message: &Message) -> Result<Event, HandlerError> {
    let poison = |error: String| HandlerError::Poison(format!("{}: {error}", message.topic));
    let event = match message.decode_event().map_err(|e| poison(e.to_string()))? {
        BusEvent::PhotoPublished(event) => {
            Event::Published(FeedEntry::new(event.photo_id, event.author_id))
        }
        BusEvent::PhotoDeleted(event) => {
            Event::Deleted(FeedEntry::new(event.photo_id, event.author_id))
        }
        BusEvent::Followed(event) => Event::Followed {
            follower: event.follower_id,
            followee: event.followee_id,
        },
        BusEvent::Unfollowed(event) => Event::Unfollowed {
            follower: event.follower_id,
            followee: event.followee_id,
        },
        other => return Err(poison(format!("not a feed topic: {}", other.topic()))),
    };
    let ids = match &event {
        Event::Published(entry) | Event::Deleted(entry) => [entry.post_id, entry.author_id],
        Event::Followed { follower, followee } | Event::Unfollowed { follower, followee } => {
            [*follower, *followee]
        }
    };
    if ids.contains(&0) {
        return Err(poison("an id is missing".to_owned()));
    }
    Ok(event)
}

impl FanOut {
    /// Handles one decoded event.
    async fn apply(&self, event: Event) -> Result<(), FeedError> {
        match event {
            Event::Published(post) => self.published(post).await,
            Event::Deleted(post) => self.deleted(post).await,
            Event::Followed { follower, followee } => self.backfill(follower, followee).await,
            Event::Unfollowed { follower, followee } => {
                self.cache.remove_author(follower, followee).await?;
                // Losing a follower may bring a celebrity back under the threshold.
                self.push_unpushed_if_below_threshold(followee).await?;
                Ok(())
            }
        }
    }

    /// A new follow: the followee's recent posts go into the follower's cache, if it has one
    /// (without one, the next read rebuilds from everyone followed anyway).
    pub async fn backfill(&self, follower: u64, followee: u64) -> Result<(), FeedError> {
        let recent = self
            .posts
            .posts_by_author(followee, None, self.settings.backfill)
            .await?;
        self.cache.insert(follower, &recent).await?;
        Ok(())
    }

    async fn published(&self, post: FeedEntry) -> Result<(), FeedError> {
        if !self.posts.record_post(post).await? {
            tracing::debug!(
                post_id = post.post_id,
                "published after its deletion: ignored"
            );
            return Ok(());
        }
        self.cache.insert(post.author_id, &[post]).await?;
        let followers = self.graph.followers_count(post.author_id).await?;
        if followers > self.settings.fanout_threshold {
            // A celebrity: readers pull these posts from the store.
            self.posts.set_unpushed(post.author_id, true).await?;
            return Ok(());
        }
        if self.posts.has_unpushed(post.author_id).await? {
            self.push_backlog(post.author_id).await?;
        }
        let began = std::time::Instant::now();
        let mut batches = self.graph.followers(post.author_id).await?;
        let (mut followers, mut active) = (0, 0);
        while let Some(batch) = batches.message().await? {
            followers += batch.user_ids.len();
            active += self.cache.push(&batch.user_ids, post).await?;
        }
        tracing::info!(
            post_id = post.post_id,
            author_id = post.author_id,
            followers,
            active,
            elapsed_ms = began.elapsed().as_millis() as u64,
            "post fanned out"
        );
        Ok(())
    }

    async fn deleted(&self, post: FeedEntry) -> Result<(), FeedError> {
        self.posts.delete_post(post).await?;
        self.cache.remove_post(&[post.author_id], post).await?;
        let mut batches = self.graph.followers(post.author_id).await?;
        while let Some(batch) = batches.message().await? {
            self.cache.remove_post(&batch.user_ids, post).await?;
        }
        Ok(())
    }

    async fn push_unpushed_if_below_threshold(&self, author: u64) -> Result<(), FeedError> {
        if self.posts.has_unpushed(author).await?
            && self.graph.followers_count(author).await? <= self.settings.fanout_threshold
        {
            self.push_backlog(author).await?;
        }
        Ok(())
    }

    /// An author who was a celebrity is one no longer: readers stop pulling their posts, so
    /// push the recent ones to every active follower now, then forget the mark.
    async fn push_backlog(&self, author: u64) -> Result<(), FeedError> {
        let recent = self
            .posts
            .posts_by_author(author, None, self.settings.backfill)
            .await?;
        let mut batches = self.graph.followers(author).await?;
        while let Some(batch) = batches.message().await? {
            for follower in batch.user_ids {
                self.cache.insert(follower, &recent).await?;
            }
        }
        self.posts.set_unpushed(author, false).await?;
        tracing::info!(
            author,
            posts = recent.len(),
            "former celebrity's posts pushed"
        );
        Ok(())
    }
}

#[async_trait]
impl Handler for FanOut {
    async fn handle(&self, message: &Message) -> Result<(), HandlerError> {
        let event = decode(message)?;
        self.apply(event).await.map_err(HandlerError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use photoshare_proto::events::v1 as events;

    fn message(topic: &str, payload: Vec<u8>) -> Message {
        Message::event(topic, "1", 1, 0, payload)
    }

    #[test]
    fn events_decode_and_malformed_ones_are_poison() {
        let published = BusEvent::PhotoPublished(events::PhotoPublished {
            photo_id: 5,
            author_id: 6,
            created_at_ms: 0,
        });
        match decode(&Message::from_event(&published, 1, 0)) {
            Ok(Event::Published(entry)) => assert_eq!(entry, FeedEntry::new(5, 6)),
            _ => panic!("a published event"),
        }
        let missing_author = BusEvent::PhotoDeleted(events::PhotoDeleted {
            photo_id: 5,
            author_id: 0,
        });
        assert!(matches!(
            decode(&Message::from_event(&missing_author, 1, 0)),
            Err(HandlerError::Poison(_))
        ));
        assert!(matches!(
            decode(&message(topics::GRAPH_FOLLOWED, vec![0xff, 0xff])),
            Err(HandlerError::Poison(_))
        ));
        let mut garbage = message(topics::GRAPH_UNFOLLOWED, Vec::new());
        garbage.value = vec![0x0a, 0xff];
        assert!(matches!(decode(&garbage), Err(HandlerError::Poison(_))));
        let liked = BusEvent::Liked(events::Liked {
            photo_id: 5,
            user_id: 6,
            photo_author_id: 7,
        });
        assert!(matches!(
            decode(&Message::from_event(&liked, 1, 0)),
            Err(HandlerError::Poison(error)) if error.contains("not a feed topic")
        ));
        assert!(matches!(
            decode(&message("graph.followed.dlq", Vec::new())),
            Err(HandlerError::Poison(_))
        ));
    }
}
