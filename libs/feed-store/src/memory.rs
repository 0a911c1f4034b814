//! The embedded feed cache: the same semantics as the Redis one, in process memory. Losing it
//! (a restart) only costs rebuilds, which is what a cache may cost.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::{CachedPage, FeedCache, FeedEntry, StoreError};

/// Readers are spread over shards so that fan-out to many readers does not serialise every
/// feed read behind one lock.
const SHARDS: usize = 64;

pub struct MemoryCache {
    cap: usize,
    ttl: Duration,
    shards: Vec<Mutex<HashMap<u64, ReaderFeed>>>,
}

struct ReaderFeed {
    /// Ordered by post id (the first field of the entry).
    entries: BTreeSet<FeedEntry>,
    /// Set by `finish_rebuild`; until then pushes are kept but the cache is not readable.
    readable: bool,
    /// Complete only for ids at or above this (see `CachedPage::window_floor`).
    floor: Option<u64>,
    expires_at: Instant,
}

impl ReaderFeed {
    fn empty(expires_at: Instant) -> ReaderFeed {
        ReaderFeed {
            entries: BTreeSet::new(),
            readable: false,
            floor: None,
            expires_at,
        }
    }

    /// Adds what lies at or above the floor, then trims to the cap.
    fn add(&mut self, entries: impl IntoIterator<Item = FeedEntry>, cap: usize) {
        let floor = self.floor.unwrap_or(0);
        self.entries
            .extend(entries.into_iter().filter(|entry| entry.post_id >= floor));
        while self.entries.len() > cap {
            if let Some(trimmed) = self.entries.pop_first() {
                self.floor = Some(self.floor.unwrap_or(0).max(trimmed.post_id + 1));
            }
        }
    }
}

impl MemoryCache {
    /// A cache keeping the newest `cap` entries per reader for `ttl` after their last read.
    pub fn new(cap: usize, ttl: Duration) -> MemoryCache {
        MemoryCache {
            cap,
            ttl,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, user: u64) -> std::sync::MutexGuard<'_, HashMap<u64, ReaderFeed>> {
        // A poisoned shard only means a panic elsewhere mid-update of plain data; the maps stay
        // valid, so keep serving.
        self.shards[(user % SHARDS as u64) as usize]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `change` on `user`'s cache if it exists and has not expired.
    fn with_live<T>(&self, user: u64, change: impl FnOnce(&mut ReaderFeed) -> T) -> Option<T> {
        let mut shard = self.shard(user);
        let now = Instant::now();
        match shard.get_mut(&user) {
            Some(feed) if feed.expires_at > now => Some(change(feed)),
            Some(_) => {
                shard.remove(&user);
                None
            }
            None => None,
        }
    }
}

#[async_trait]
impl FeedCache for MemoryCache {
    async fn read(
        &self,
        user: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Option<CachedPage>, StoreError> {
        let ttl = self.ttl;
        let page = self.with_live(user, |feed| {
            if !feed.readable {
                return None;
            }
            feed.expires_at = Instant::now() + ttl;
            let below = FeedEntry::new(before.unwrap_or(u64::MAX), 0);
            let entries = feed
                .entries
                .range(..below)
                .rev()
                .take(limit)
                .copied()
                .collect();
            Some(CachedPage {
                entries,
                window_floor: feed.floor,
            })
        });
        Ok(page.flatten())
    }

    async fn begin_rebuild(&self, user: u64) -> Result<(), StoreError> {
        let now = Instant::now();
        let expires_at = now + self.ttl;
        let mut shard = self.shard(user);
        // Rebuilds are rare next to reads: a good moment to drop the shard's expired readers,
        // who would otherwise stay in memory until they came back.
        shard.retain(|reader, feed| *reader == user || feed.expires_at > now);
        let feed = shard
            .entry(user)
            .or_insert_with(|| ReaderFeed::empty(expires_at));
        if feed.expires_at <= now {
            *feed = ReaderFeed::empty(expires_at);
        }
        feed.readable = false;
        feed.expires_at = expires_at;
        Ok(())
    }

    async fn finish_rebuild(
        &self,
        user: u64,
        entries: &[FeedEntry],
        complete: bool,
    ) -> Result<(), StoreError> {
        let cap = self.cap;
        let expires_at = Instant::now() + self.ttl;
        let mut shard = self.shard(user);
        let feed = shard
            .entry(user)
            .or_insert_with(|| ReaderFeed::empty(expires_at));
        if !complete {
            // Complete from the oldest entry loaded up; pushes that raced in below it go.
            let floor = entries.iter().map(|entry| entry.post_id).min();
            feed.floor = feed.floor.max(floor);
            if let Some(floor) = feed.floor {
                feed.entries.retain(|entry| entry.post_id >= floor);
            }
        }
        feed.add(entries.iter().copied(), cap);
        feed.readable = true;
        feed.expires_at = expires_at;
        Ok(())
    }

    async fn push(&self, users: &[u64], entry: FeedEntry) -> Result<usize, StoreError> {
        let mut pushed = 0;
        for user in users {
            let landed = self.with_live(*user, |feed| feed.add([entry], self.cap));
            pushed += usize::from(landed.is_some());
        }
        Ok(pushed)
    }

    async fn insert(&self, user: u64, entries: &[FeedEntry]) -> Result<bool, StoreError> {
        Ok(self
            .with_live(user, |feed| feed.add(entries.iter().copied(), self.cap))
            .is_some())
    }

    async fn remove_post(&self, users: &[u64], entry: FeedEntry) -> Result<(), StoreError> {
        for user in users {
            self.with_live(*user, |feed| feed.entries.remove(&entry));
        }
        Ok(())
    }

    async fn remove_author(&self, user: u64, author: u64) -> Result<(), StoreError> {
        self.with_live(user, |feed| {
            feed.entries.retain(|entry| entry.author_id != author)
        });
        Ok(())
    }

    async fn wipe(&self, user: u64) -> Result<(), StoreError> {
        self.shard(user).remove(&user);
        Ok(())
    }
}
