//! The home feed's two stores, each behind one trait so that the feed service has one code path
//! whatever runs underneath:
//!
//! - [`FeedCache`]: per reader, the newest post ids of their feed, capped, kept only for
//!   readers who read recently (an expiry that every read renews). In process
//!   ([`MemoryCache`]) or in Redis sorted sets (`photoshare-feed-redis`).
//! - [`PostStore`]: the durable record of every author's posts, newest first, that fan-out on
//!   read and cache rebuilds draw on. SQLite or PostgreSQL ([`SqlPostStore`]) or Scylla
//!   (`photoshare-feed-scylla`).
//!
//! The stores hold ids only and decide nothing: who sees what is the feed service's business,
//! checked at read time. A store must never create a reader's cache as a side effect of a push:
//! a cache that exists is complete down to its window (see [`CachedPage::window_floor`]).

mod memory;
mod sql;

#[cfg(feature = "conformance")]
pub mod conformance;

use std::collections::HashSet;

use async_trait::async_trait;

pub use memory::MemoryCache;
pub use sql::{SqlPostStore, MIGRATIONS};

/// One post in a feed. Post ids are photoshare ids: ordering them orders posts by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedEntry {
    pub post_id: u64,
    pub author_id: u64,
}

impl FeedEntry {
    pub fn new(post_id: u64, author_id: u64) -> FeedEntry {
        FeedEntry { post_id, author_id }
    }
}

/// A page read from a reader's cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPage {
    /// Entries below the requested position, newest first.
    pub entries: Vec<FeedEntry>,
    /// `None`: the cache holds the reader's whole feed (all of it fitted under the cap).
    /// `Some(id)`: the cache is complete only for posts with ids `>= id` (older ones were trimmed
    /// or never loaded); below it the feed continues in the durable store. The floor only ever
    /// rises: trimming raises it above the highest entry trimmed, removals leave it, and
    /// entries below it are never added (they would make the window look complete where it is
    /// not).
    pub window_floor: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{backend}: {message}")]
    Backend {
        backend: &'static str,
        message: String,
    },
}

impl StoreError {
    pub fn backend(backend: &'static str, error: impl std::fmt::Display) -> StoreError {
        StoreError::Backend {
            backend,
            message: error.to_string(),
        }
    }
}

/// The cached feeds of active readers. Every write is idempotent (consumers are
/// at-least-once), and writes to a reader without a cache change nothing.
#[async_trait]
pub trait FeedCache: Send + Sync {
    /// Up to `limit` entries with `post_id < before` (all when `None`), newest first, and renews
    /// the reader's expiry. `None` when the reader has no complete cache: never built, expired,
    /// lost, or still being built.
    async fn read(
        &self,
        user: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Option<CachedPage>, StoreError>;

    /// Starts (re)building `user`'s cache: from now on pushes to `user` are kept, so that a post
    /// published while the builder reads the durable store is not lost.
    async fn begin_rebuild(&self, user: u64) -> Result<(), StoreError>;

    /// Adds `entries` (the newest posts of the reader's whole feed, at most the cap) to what
    /// pushes left since [`FeedCache::begin_rebuild`] and makes the cache readable. `complete`
    /// says that `entries` is the whole feed; otherwise the window floor is its oldest entry,
    /// and anything pushed meanwhile below it is dropped.
    async fn finish_rebuild(
        &self,
        user: u64,
        entries: &[FeedEntry],
        complete: bool,
    ) -> Result<(), StoreError>;

    /// Adds `entry` to the feed of each of `users` that has a cache (readable or being built),
    /// trimming each to the cap; below a cache's window floor it is not added. Returns how many
    /// caches exist among `users`.
    async fn push(&self, users: &[u64], entry: FeedEntry) -> Result<usize, StoreError>;

    /// Adds `entries` to `user`'s cache if it has one (a follow's backfill), trimming to the
    /// cap and leaving out entries below the window floor. Returns whether it had one.
    async fn insert(&self, user: u64, entries: &[FeedEntry]) -> Result<bool, StoreError>;

    /// Removes `entry` from the feeds of `users` (a deleted post).
    async fn remove_post(&self, users: &[u64], entry: FeedEntry) -> Result<(), StoreError>;

    /// Removes every post of `author` from `user`'s feed (an unfollow).
    async fn remove_author(&self, user: u64, author: u64) -> Result<(), StoreError>;

    /// Forgets `user`'s cache; the next read rebuilds it.
    async fn wipe(&self, user: u64) -> Result<(), StoreError>;
}

/// The durable record of posts by author.
#[async_trait]
pub trait PostStore: Send + Sync {
    /// Records a published post. Idempotent. Returns `false`, recording nothing, when the post
    /// was deleted already (events of different topics may arrive in any order).
    async fn record_post(&self, entry: FeedEntry) -> Result<bool, StoreError>;

    /// Deletes a post and remembers that it was deleted, so that a late
    /// [`PostStore::record_post`] cannot bring it back.
    async fn delete_post(&self, entry: FeedEntry) -> Result<(), StoreError>;

    /// `author`'s posts with `post_id < before` (all when `None`), newest first, at most `limit`.
    async fn posts_by_author(
        &self,
        author: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError>;

    /// The newest posts of all of `authors` with `post_id < before`, merged newest first, at
    /// most `limit`.
    async fn posts_by_authors(
        &self,
        authors: &[u64],
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError>;

    /// The post ids among `entries` that are recorded and not deleted.
    async fn existing(&self, entries: &[FeedEntry]) -> Result<HashSet<u64>, StoreError>;

    /// Remembers that `author` has posts that were not pushed into followers' caches (the
    /// author had more followers than the fan-out threshold), or forgets it once they were.
    async fn set_unpushed(&self, author: u64, unpushed: bool) -> Result<(), StoreError>;

    /// Whether `author` has posts that were not pushed.
    async fn has_unpushed(&self, author: u64) -> Result<bool, StoreError>;
}

/// Merges lists that are each sorted newest first into one, newest first, without duplicates,
/// at most `limit` long. For stores that read authors one by one.
pub fn merge_newest_first(lists: Vec<Vec<FeedEntry>>, limit: usize) -> Vec<FeedEntry> {
    let mut all: Vec<FeedEntry> = lists.into_iter().flatten().collect();
    all.sort_unstable_by_key(|entry| std::cmp::Reverse(entry.post_id));
    all.dedup_by_key(|entry| entry.post_id);
    all.truncate(limit);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_the_newest_once_each() {
        let a = vec![
            FeedEntry::new(9, 1),
            FeedEntry::new(5, 1),
            FeedEntry::new(1, 1),
        ];
        let b = vec![
            FeedEntry::new(8, 2),
            FeedEntry::new(5, 1),
            FeedEntry::new(2, 2),
        ];
        let merged = merge_newest_first(vec![a, b], 4);
        let ids: Vec<u64> = merged.iter().map(|e| e.post_id).collect();
        assert_eq!(ids, vec![9, 8, 5, 2]);
    }
}
