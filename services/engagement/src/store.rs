//! The engagement service's SQL (portable; see photoshare-db). Every change to likes or comments
//! updates the photo's row in `photo_stats` and enqueues its event in the same transaction, so
//! the counts never drift and reads never count rows.
//!
//! Every transaction starts with a write, so SQLite takes its write lock up front and a
//! concurrent writer waits (busy_timeout) instead of failing on a lock upgrade. Nothing here
//! decides who may do what beyond the conditions written into the statements.

use std::collections::{HashMap, HashSet};

use photoshare_db::Database;
use photoshare_events::Message;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::EngagementError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRecord {
    pub id: u64,
    pub photo_id: u64,
    pub author_id: u64,
    pub text: String,
    pub created_at_ms: i64,
}

pub struct NewComment<'a> {
    pub id: u64,
    pub photo_id: u64,
    pub author_id: u64,
    pub photo_author_id: u64,
    pub text: &'a str,
    pub now_ms: i64,
}

/// The Idempotency-Key a comment is created with, and when it stops answering retries.
pub struct CommentKey<'a> {
    pub key: &'a str,
    pub expires_at_ms: i64,
}

/// What became of a request to create a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentCreated {
    /// Stored now.
    New(CommentRecord),
    /// The key was used before: the comment it created then (perhaps deleted since).
    Earlier(CommentRecord),
}

/// A photo's counts as stored; a photo without a row has zeros.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub like_count: u64,
    pub comment_count: u64,
}

/// An event to enqueue with a change.
pub struct Event<'a> {
    pub id: u64,
    pub message: &'a Message,
}

const COMMENT_COLUMNS: &str = "id, photo_id, author_id, text, created_at_ms";

#[derive(Clone)]
pub struct Store {
    database: Database,
}

impl Store {
    pub fn new(database: Database) -> Store {
        Store { database }
    }

    /// Records the like, counts it and enqueues `event`, atomically. False (and nothing changes)
    /// if the user already likes the photo.
    pub async fn like(
        &self,
        like_id: u64,
        photo_id: u64,
        user_id: u64,
        event: Event<'_>,
        now_ms: i64,
    ) -> Result<bool, EngagementError> {
        let mut tx = self.database.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO likes (id, photo_id, user_id, created_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (photo_id, user_id) DO NOTHING",
        )
        .bind(like_id as i64)
        .bind(photo_id as i64)
        .bind(user_id as i64)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO photo_stats (photo_id, like_count, comment_count, updated_at_ms) VALUES ($1, 1, 0, $2) \
             ON CONFLICT (photo_id) DO UPDATE SET like_count = photo_stats.like_count + 1, updated_at_ms = $2",
        )
        .bind(photo_id as i64)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        photoshare_events::enqueue(&mut tx, event.id, event.message).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes the like and uncounts it, atomically. False (and nothing changes) if there was none.
    pub async fn unlike(
        &self,
        photo_id: u64,
        user_id: u64,
        now_ms: i64,
    ) -> Result<bool, EngagementError> {
        let mut tx = self.database.pool().begin().await?;
        let deleted = sqlx::query("DELETE FROM likes WHERE photo_id = $1 AND user_id = $2")
            .bind(photo_id as i64)
            .bind(user_id as i64)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE photo_stats SET like_count = like_count - 1, updated_at_ms = $2 WHERE photo_id = $1",
        )
        .bind(photo_id as i64)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A photo's likes with ids below `before`, newest first, as (like id, user id).
    pub async fn likers(
        &self,
        photo_id: u64,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<(u64, u64)>, EngagementError> {
        let rows = sqlx::query(
            "SELECT id, user_id FROM likes WHERE photo_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(photo_id as i64)
        .bind(before.unwrap_or(u64::MAX).min(i64::MAX as u64) as i64)
        .bind(i64::from(limit))
        .fetch_all(self.database.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get::<i64, _>("id")? as u64,
                    row.try_get::<i64, _>("user_id")? as u64,
                ))
            })
            .collect()
    }

    /// Stores the comment, counts it and enqueues `event`, atomically. With a `key` that this
    /// author used before (and that has not expired), nothing is stored: the comment made with
    /// it then is the answer.
    pub async fn create_comment(
        &self,
        comment: &NewComment<'_>,
        key: Option<CommentKey<'_>>,
        event: Event<'_>,
    ) -> Result<CommentCreated, EngagementError> {
        let mut tx = self.database.pool().begin().await?;
        if let Some(key) = key {
            // The first statement claims the key (or the expired claim of it): of two racing
            // retries, the second waits for the first and then finds its claim.
            let claimed = sqlx::query(
                "INSERT INTO comment_keys (user_id, idempotency_key, comment_id, photo_id, text, created_at_ms, expires_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (user_id, idempotency_key) DO UPDATE SET comment_id = excluded.comment_id, \
                 photo_id = excluded.photo_id, text = excluded.text, created_at_ms = excluded.created_at_ms, \
                 expires_at_ms = excluded.expires_at_ms WHERE comment_keys.expires_at_ms <= $6",
            )
            .bind(comment.author_id as i64)
            .bind(key.key)
            .bind(comment.id as i64)
            .bind(comment.photo_id as i64)
            .bind(comment.text)
            .bind(comment.now_ms)
            .bind(key.expires_at_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                tx.rollback().await?;
                let row = sqlx::query(
                    "SELECT comment_id AS id, photo_id, user_id AS author_id, text, created_at_ms \
                     FROM comment_keys WHERE user_id = $1 AND idempotency_key = $2",
                )
                .bind(comment.author_id as i64)
                .bind(key.key)
                .fetch_one(self.database.pool())
                .await?;
                return Ok(CommentCreated::Earlier(comment_from_row(&row)?));
            }
        }
        let row = sqlx::query(&format!(
            "INSERT INTO comments (id, photo_id, author_id, photo_author_id, text, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COMMENT_COLUMNS}"
        ))
        .bind(comment.id as i64)
        .bind(comment.photo_id as i64)
        .bind(comment.author_id as i64)
        .bind(comment.photo_author_id as i64)
        .bind(comment.text)
        .bind(comment.now_ms)
        .fetch_one(&mut *tx)
        .await?;
        let record = comment_from_row(&row)?;
        sqlx::query(
            "INSERT INTO photo_stats (photo_id, like_count, comment_count, updated_at_ms) VALUES ($1, 0, 1, $2) \
             ON CONFLICT (photo_id) DO UPDATE SET comment_count = photo_stats.comment_count + 1, updated_at_ms = $2",
        )
        .bind(comment.photo_id as i64)
        .bind(comment.now_ms)
        .execute(&mut *tx)
        .await?;
        photoshare_events::enqueue(&mut tx, event.id, event.message).await?;
        tx.commit().await?;
        Ok(CommentCreated::New(record))
    }

    pub async fn comment(&self, comment_id: u64) -> Result<Option<CommentRecord>, EngagementError> {
        let row = sqlx::query(&format!(
            "SELECT {COMMENT_COLUMNS} FROM comments WHERE id = $1"
        ))
        .bind(comment_id as i64)
        .fetch_optional(self.database.pool())
        .await?;
        row.as_ref().map(comment_from_row).transpose()
    }

    /// Forgets the Idempotency-Keys past their day; returns how many.
    pub async fn purge_expired_keys(&self, now_ms: i64) -> Result<u64, EngagementError> {
        Ok(
            sqlx::query("DELETE FROM comment_keys WHERE expires_at_ms <= $1")
                .bind(now_ms)
                .execute(self.database.pool())
                .await?
                .rows_affected(),
        )
    }

    /// A photo's comments with ids above `after`, oldest first.
    pub async fn comments(
        &self,
        photo_id: u64,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<CommentRecord>, EngagementError> {
        let rows = sqlx::query(&format!(
            "SELECT {COMMENT_COLUMNS} FROM comments WHERE photo_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(photo_id as i64)
        .bind(after.unwrap_or(0).min(i64::MAX as u64) as i64)
        .bind(i64::from(limit))
        .fetch_all(self.database.pool())
        .await?;
        rows.iter().map(comment_from_row).collect()
    }

    /// Deletes the comment if `user_id` wrote it or wrote the photo, and uncounts it, atomically.
    /// Otherwise `Forbidden` if the comment exists, `NotFound` if not (or no longer).
    pub async fn delete_comment(
        &self,
        comment_id: u64,
        user_id: u64,
        now_ms: i64,
    ) -> Result<(), EngagementError> {
        let mut tx = self.database.pool().begin().await?;
        let deleted: Option<i64> = sqlx::query_scalar(
            "DELETE FROM comments WHERE id = $1 AND (author_id = $2 OR photo_author_id = $2) RETURNING photo_id",
        )
        .bind(comment_id as i64)
        .bind(user_id as i64)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(photo_id) = deleted else {
            tx.rollback().await?;
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM comments WHERE id = $1")
                .bind(comment_id as i64)
                .fetch_optional(self.database.pool())
                .await?;
            return Err(match exists {
                Some(_) => EngagementError::Forbidden,
                None => EngagementError::NotFound("comment"),
            });
        };
        sqlx::query(
            "UPDATE photo_stats SET comment_count = comment_count - 1, updated_at_ms = $2 WHERE photo_id = $1",
        )
        .bind(photo_id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The counts of `photo_ids` and which of them `viewer_id` likes: two queries, whatever the
    /// number of photos. Photos without a stats row are absent from the map.
    pub async fn stats(
        &self,
        viewer_id: u64,
        photo_ids: &[u64],
    ) -> Result<(HashMap<u64, Counts>, HashSet<u64>), EngagementError> {
        let mut unique: Vec<u64> = photo_ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        if unique.is_empty() {
            return Ok((HashMap::new(), HashSet::new()));
        }
        let slots = |first: usize| -> String {
            (first..first + unique.len())
                .map(|n| format!("${n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };

        let sql = format!(
            "SELECT photo_id, like_count, comment_count FROM photo_stats WHERE photo_id IN ({})",
            slots(1)
        );
        let mut query = sqlx::query(&sql);
        for id in &unique {
            query = query.bind(*id as i64);
        }
        let mut counts = HashMap::with_capacity(unique.len());
        for row in query.fetch_all(self.database.pool()).await? {
            counts.insert(
                row.try_get::<i64, _>("photo_id")? as u64,
                Counts {
                    like_count: row.try_get::<i64, _>("like_count")?.max(0) as u64,
                    comment_count: row.try_get::<i64, _>("comment_count")?.max(0) as u64,
                },
            );
        }

        let sql = format!(
            "SELECT photo_id FROM likes WHERE user_id = $1 AND photo_id IN ({})",
            slots(2)
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(viewer_id as i64);
        for id in &unique {
            query = query.bind(*id as i64);
        }
        let liked = query
            .fetch_all(self.database.pool())
            .await?
            .into_iter()
            .map(|id| id as u64)
            .collect();
        Ok((counts, liked))
    }
}

fn comment_from_row(row: &AnyRow) -> Result<CommentRecord, EngagementError> {
    Ok(CommentRecord {
        id: row.try_get::<i64, _>("id")? as u64,
        photo_id: row.try_get::<i64, _>("photo_id")? as u64,
        author_id: row.try_get::<i64, _>("author_id")? as u64,
        text: row.try_get("text")?,
        created_at_ms: row.try_get("created_at_ms")?,
    })
}
