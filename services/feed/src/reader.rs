//! Reading a home feed: the reader's cached window (rebuilt by fan-out on read when missing,
//! continued from the durable store below it), merged with the newest posts of the celebrities
//! they follow, then checked against the graph and the store so that nothing deleted or no
//! longer visible is ever returned, however stale the cache.

use std::collections::HashSet;
use std::sync::Arc;

use photoshare_feed_store::{FeedCache, FeedEntry, PostStore};

use crate::error::FeedError;
use crate::graph::Graph;
use crate::merge::{combine, SourceRead};

/// Extra entries read per source beyond what the page still needs, so that a few filtered-out
/// entries do not cost another round.
const SLACK: usize = 10;

/// A page of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    /// Newest first.
    pub entries: Vec<FeedEntry>,
    /// Read the next page below this post id; `None` at the end.
    pub next_below: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
pub struct ReaderSettings {
    pub fanout_threshold: u64,
    pub cache_cap: usize,
}

#[derive(Clone)]
pub struct FeedReader {
    pub cache: Arc<dyn FeedCache>,
    pub posts: Arc<dyn PostStore>,
    pub graph: Graph,
    pub settings: ReaderSettings,
}

/// Lazily read: the full list of whom the reader follows is needed only to rebuild a cache or
/// to read past its window.
struct Followed(Option<Vec<u64>>);

impl FeedReader {
    /// `limit` entries below `before` (from the top when `None`).
    pub async fn read(
        &self,
        reader: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<FeedPage, FeedError> {
        let want = limit + 1; // one more tells whether a next page exists
        let celebrities = self
            .graph
            .following(reader, self.settings.fanout_threshold)
            .await?;
        let mut followed = Followed(None);
        let mut kept: Vec<FeedEntry> = Vec::with_capacity(want);
        let mut cursor = before;
        loop {
            let asked = want - kept.len() + SLACK;
            let home = self
                .home_entries(reader, cursor, asked, &mut followed)
                .await?;
            let pulled = if celebrities.is_empty() {
                SourceRead::new(Vec::new(), asked)
            } else {
                let entries = self
                    .posts
                    .posts_by_authors(&celebrities, cursor, asked)
                    .await?;
                SourceRead::new(entries, asked)
            };
            let stretch = combine(vec![home, pulled]);
            kept.extend(self.visible(reader, stretch.entries).await?);
            match stretch.continue_below {
                Some(below) if kept.len() < want => cursor = Some(below),
                _ => break,
            }
        }
        let next_below = if kept.len() > limit {
            kept.truncate(limit);
            kept.last().map(|entry| entry.post_id)
        } else {
            None
        };
        Ok(FeedPage {
            entries: kept,
            next_below,
        })
    }

    /// The reader's pushed feed below `cursor`: the cache, or past its window the durable store.
    async fn home_entries(
        &self,
        reader: u64,
        cursor: Option<u64>,
        asked: usize,
        followed: &mut Followed,
    ) -> Result<SourceRead, FeedError> {
        let page = match self.cache.read(reader, cursor, asked).await? {
            Some(page) => page,
            None => {
                self.rebuild(reader, followed).await?;
                match self.cache.read(reader, cursor, asked).await? {
                    Some(page) => page,
                    // Wiped again at once (another rebuild began): serve from the store.
                    None => {
                        let authors = self.followed_and_self(reader, followed).await?;
                        let entries = self.posts.posts_by_authors(authors, cursor, asked).await?;
                        return Ok(SourceRead::new(entries, asked));
                    }
                }
            }
        };
        let mut entries = page.entries;
        if entries.len() == asked {
            return Ok(SourceRead {
                entries,
                exhausted: false,
            });
        }
        let Some(floor) = page.window_floor else {
            return Ok(SourceRead {
                entries,
                exhausted: true,
            });
        };
        // Past the cached window: the rest comes from the durable store.
        let below = cursor.map_or(floor, |cursor| cursor.min(floor));
        let still = asked - entries.len();
        let authors = self.followed_and_self(reader, followed).await?;
        let older = self
            .posts
            .posts_by_authors(authors, Some(below), still)
            .await?;
        let exhausted = older.len() < still;
        entries.extend(older);
        Ok(SourceRead { entries, exhausted })
    }

    /// Fan-out on read: the newest posts of everyone followed (and the reader's own) become the
    /// cache. Pushes that arrive meanwhile are kept (see `FeedCache::begin_rebuild`).
    async fn rebuild(&self, reader: u64, followed: &mut Followed) -> Result<(), FeedError> {
        self.cache.begin_rebuild(reader).await?;
        let cap = self.settings.cache_cap;
        let authors = self.followed_and_self(reader, followed).await?;
        let entries = self.posts.posts_by_authors(authors, None, cap).await?;
        let complete = entries.len() < cap;
        self.cache
            .finish_rebuild(reader, &entries, complete)
            .await?;
        tracing::debug!(reader, entries = entries.len(), "feed cache rebuilt");
        Ok(())
    }

    async fn followed_and_self<'a>(
        &self,
        reader: u64,
        followed: &'a mut Followed,
    ) -> Result<&'a [u64], FeedError> {
        if followed.0.is_none() {
            let mut authors = self.graph.following(reader, 0).await?;
            authors.push(reader);
            followed.0 = Some(authors);
        }
        Ok(followed.0.as_deref().unwrap_or_default())
    }

    /// Keeps the entries the reader may see now: their own, and those of authors they still
    /// follow, of posts that still exist.
    async fn visible(
        &self,
        reader: u64,
        entries: Vec<FeedEntry>,
    ) -> Result<Vec<FeedEntry>, FeedError> {
        if entries.is_empty() {
            return Ok(entries);
        }
        let mut authors: Vec<u64> = entries
            .iter()
            .map(|entry| entry.author_id)
            .filter(|author| *author != reader)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        authors.sort_unstable();
        let followed = async {
            if authors.is_empty() {
                Ok(HashSet::new())
            } else {
                self.graph.followed_among(reader, &authors).await
            }
        };
        let existing = async { Ok::<_, FeedError>(self.posts.existing(&entries).await?) };
        let (followed, existing) = tokio::try_join!(followed, existing)?;
        Ok(entries
            .into_iter()
            .filter(|entry| entry.author_id == reader || followed.contains(&entry.author_id))
            .filter(|entry| existing.contains(&entry.post_id))
            .collect())
    }
}
