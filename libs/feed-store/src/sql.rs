//! The durable post store on SQLite or PostgreSQL (one portable schema, `migrations/feed`).

use std::collections::HashSet;

use async_trait::async_trait;
use photoshare_db::{embed_migrations, Database, MigrationFile};
use sqlx::Row;

use crate::{FeedEntry, PostStore, StoreError};

pub static MIGRATIONS: &[MigrationFile] =
    embed_migrations!("../../../migrations/feed", 1 => "0001_init");

/// Authors per `IN (...)` list: well below SQLite's 32 766 bound parameters.
const AUTHORS_PER_QUERY: usize = 500;

#[derive(Clone)]
pub struct SqlPostStore {
    database: Database,
}

fn failed(error: sqlx::Error) -> StoreError {
    StoreError::backend("feed database", error)
}

fn entry(row: &sqlx::any::AnyRow) -> Result<FeedEntry, StoreError> {
    let author: i64 = row.try_get("author_id").map_err(failed)?;
    let post: i64 = row.try_get("post_id").map_err(failed)?;
    Ok(FeedEntry::new(post as u64, author as u64))
}

/// `$first, $first+1, …` for `count` parameters.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A cursor as the `post_id < $n` bound: ids are positive, so "from the start" is `i64::MAX`.
fn upper_bound(before: Option<u64>) -> i64 {
    before.map_or(i64::MAX, |id| id.min(i64::MAX as u64) as i64)
}

impl SqlPostStore {
    /// A store on an opened database whose feed migrations have been applied.
    pub fn new(database: Database) -> SqlPostStore {
        SqlPostStore { database }
    }

    pub fn database(&self) -> &Database {
        &self.database
    }
}

#[async_trait]
impl PostStore for SqlPostStore {
    async fn record_post(&self, post: FeedEntry) -> Result<bool, StoreError> {
        // One statement, so that a delete committed in between cannot be missed.
        let inserted = sqlx::query(
            "INSERT INTO posts_by_author (author_id, post_id) \
             SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM deleted_posts WHERE post_id = $2) \
             ON CONFLICT (author_id, post_id) DO NOTHING",
        )
        .bind(post.author_id as i64)
        .bind(post.post_id as i64)
        .execute(self.database.pool())
        .await
        .map_err(failed)?;
        if inserted.rows_affected() == 1 {
            return Ok(true);
        }
        let deleted = sqlx::query("SELECT 1 FROM deleted_posts WHERE post_id = $1")
            .bind(post.post_id as i64)
            .fetch_optional(self.database.pool())
            .await
            .map_err(failed)?;
        Ok(deleted.is_none())
    }

    async fn delete_post(&self, post: FeedEntry) -> Result<(), StoreError> {
        let mut transaction = self.database.pool().begin().await.map_err(failed)?;
        sqlx::query(
            "INSERT INTO deleted_posts (post_id, author_id, deleted_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (post_id) DO NOTHING",
        )
        .bind(post.post_id as i64)
        .bind(post.author_id as i64)
        .bind(photoshare_ids::unix_ms_now())
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
        sqlx::query("DELETE FROM posts_by_author WHERE author_id = $1 AND post_id = $2")
            .bind(post.author_id as i64)
            .bind(post.post_id as i64)
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
        transaction.commit().await.map_err(failed)
    }

    async fn posts_by_author(
        &self,
        author: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        self.posts_by_authors(&[author], before, limit).await
    }

    async fn posts_by_authors(
        &self,
        authors: &[u64],
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        let mut lists = Vec::new();
        for chunk in authors.chunks(AUTHORS_PER_QUERY) {
            let sql = format!(
                "SELECT author_id, post_id FROM posts_by_author \
                 WHERE author_id IN ({}) AND post_id < $1 ORDER BY post_id DESC LIMIT {}",
                placeholders(2, chunk.len()),
                limit
            );
            let mut query = sqlx::query(&sql).bind(upper_bound(before));
            for author in chunk {
                query = query.bind(*author as i64);
            }
            let rows = query
                .fetch_all(self.database.pool())
                .await
                .map_err(failed)?;
            lists.push(rows.iter().map(entry).collect::<Result<Vec<_>, _>>()?);
        }
        Ok(crate::merge_newest_first(lists, limit))
    }

    async fn existing(&self, entries: &[FeedEntry]) -> Result<HashSet<u64>, StoreError> {
        let mut found = HashSet::new();
        for chunk in entries.chunks(AUTHORS_PER_QUERY) {
            let sql = format!(
                "SELECT author_id, post_id FROM posts_by_author WHERE post_id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for entry in chunk {
                query = query.bind(entry.post_id as i64);
            }
            let rows = query
                .fetch_all(self.database.pool())
                .await
                .map_err(failed)?;
            for row in &rows {
                let recorded = entry(row)?;
                if chunk.contains(&recorded) {
                    found.insert(recorded.post_id);
                }
            }
        }
        Ok(found)
    }

    async fn set_unpushed(&self, author: u64, unpushed: bool) -> Result<(), StoreError> {
        let query = if unpushed {
            sqlx::query(
                "INSERT INTO unpushed_authors (author_id, since_ms) VALUES ($1, $2) \
                 ON CONFLICT (author_id) DO NOTHING",
            )
            .bind(author as i64)
            .bind(photoshare_ids::unix_ms_now())
        } else {
            sqlx::query("DELETE FROM unpushed_authors WHERE author_id = $1").bind(author as i64)
        };
        query.execute(self.database.pool()).await.map_err(failed)?;
        Ok(())
    }

    async fn has_unpushed(&self, author: u64) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM unpushed_authors WHERE author_id = $1")
            .bind(author as i64)
            .fetch_optional(self.database.pool())
            .await
            .map_err(failed)?;
        Ok(row.is_some())
    }
}
