//! The media service's SQL (portable; see photoshare-db). Writes that emit an event enqueue it
//! into the outbox inside the same transaction.

use photoshare_db::{is_unique_violation, Database};
use photoshare_events::Message;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::error::MediaError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub id: u64,
    pub user_id: u64,
    pub object_key: String,
    pub content_type: String,
    pub content_length: u64,
    pub expires_at_ms: i64,
    pub idempotency_key: Option<String>,
    pub photo_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredVariant {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub content_type: String,
    pub object_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRecord {
    pub id: u64,
    pub author_id: u64,
    pub original_key: String,
    pub caption: String,
    pub alt_text: String,
    pub location: String,
    pub hashtags: Vec<String>,
    pub mentions: Vec<String>,
    pub status: String,
    pub failure_reason: Option<String>,
    pub width: u32,
    pub height: u32,
    pub blurhash: Option<String>,
    pub variants: Vec<StoredVariant>,
    pub created_at_ms: i64,
    pub deleted: bool,
}

pub struct NewPhoto<'a> {
    pub id: u64,
    pub upload: &'a UploadRecord,
    pub caption: &'a str,
    pub alt_text: &'a str,
    pub location: &'a str,
    pub hashtags: &'a [String],
    pub mentions: &'a [String],
    pub now_ms: i64,
}

/// The outcome of processing, as stored.
pub enum Outcome<'a> {
    Ready {
        width: u32,
        height: u32,
        blurhash: &'a str,
        variants: &'a [StoredVariant],
    },
    Failed {
        reason: &'a str,
    },
}

const PHOTO_COLUMNS: &str =
    "id, author_id, original_key, caption, alt_text, location, hashtags, mentions, \
     status, failure_reason, width, height, blurhash, variants, created_at_ms, deleted_at_ms";
const UPLOAD_COLUMNS: &str =
    "id, user_id, object_key, content_type, content_length, expires_at_ms, idempotency_key, photo_id";

#[derive(Clone)]
pub struct Store {
    database: Database,
}

impl Store {
    pub fn new(database: Database) -> Store {
        Store { database }
    }

    /// Inserts the upload; with an idempotency key already used by this user, returns the
    /// existing upload instead (the caller compares it with the request).
    pub async fn create_upload(
        &self,
        upload: &UploadRecord,
        now_ms: i64,
    ) -> Result<UploadRecord, MediaError> {
        let inserted = sqlx::query(
            "INSERT INTO uploads (id, user_id, object_key, content_type, content_length, expires_at_ms, created_at_ms, idempotency_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(upload.id as i64)
        .bind(upload.user_id as i64)
        .bind(&upload.object_key)
        .bind(&upload.content_type)
        .bind(upload.content_length as i64)
        .bind(upload.expires_at_ms)
        .bind(now_ms)
        .bind(upload.idempotency_key.as_deref())
        .execute(self.database.pool())
        .await;
        match inserted {
            Ok(_) => Ok(upload.clone()),
            Err(error) if is_unique_violation(&error) && upload.idempotency_key.is_some() => {
                let key = upload.idempotency_key.as_deref().unwrap_or_default();
                let row = sqlx::query(&format!(
                    "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE user_id = $1 AND idempotency_key = $2"
                ))
                .bind(upload.user_id as i64)
                .bind(key)
                .fetch_one(self.database.pool())
                .await?;
                upload_from_row(&row)
            }
            Err(error) => Err(error.into()),
        }
    }

    pub async fn upload(&self, id: u64) -> Result<Option<UploadRecord>, MediaError> {
        let row = sqlx::query(&format!(
            "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = $1"
        ))
        .bind(id as i64)
        .fetch_optional(self.database.pool())
        .await?;
        row.as_ref().map(upload_from_row).transpose()
    }

    /// Creates the photo, ties the upload to it and enqueues `photo.uploaded`, atomically. If the
    /// upload became a photo meanwhile (a racing retry), returns that photo's id instead.
    pub async fn create_photo(
        &self,
        photo: &NewPhoto<'_>,
        event_id: u64,
        event: &Message,
    ) -> Result<u64, MediaError> {
        let mut tx = self.database.pool().begin().await?;
        let claimed =
            sqlx::query("UPDATE uploads SET photo_id = $2 WHERE id = $1 AND photo_id IS NULL")
                .bind(photo.upload.id as i64)
                .bind(photo.id as i64)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if claimed == 0 {
            drop(tx);
            let existing = self
                .upload(photo.upload.id)
                .await?
                .and_then(|upload| upload.photo_id);
            return existing.ok_or(MediaError::NotFound("upload"));
        }
        sqlx::query(
            "INSERT INTO photos (id, author_id, upload_id, original_key, content_type, caption, alt_text, location, \
             hashtags, mentions, status, variants, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'processing', '[]', $11, $11)",
        )
        .bind(photo.id as i64)
        .bind(photo.upload.user_id as i64)
        .bind(photo.upload.id as i64)
        .bind(&photo.upload.object_key)
        .bind(&photo.upload.content_type)
        .bind(photo.caption)
        .bind(photo.alt_text)
        .bind(photo.location)
        .bind(json(photo.hashtags))
        .bind(json(photo.mentions))
        .bind(photo.now_ms)
        .execute(&mut *tx)
        .await?;
        photoshare_events::enqueue(&mut tx, event_id, event).await?;
        tx.commit().await?;
        Ok(photo.id)
    }

    pub async fn photo(&self, id: u64) -> Result<Option<PhotoRecord>, MediaError> {
        let row = sqlx::query(&format!("SELECT {PHOTO_COLUMNS} FROM photos WHERE id = $1"))
            .bind(id as i64)
            .fetch_optional(self.database.pool())
            .await?;
        row.as_ref().map(photo_from_row).transpose()
    }

    pub async fn photos(&self, ids: &[u64]) -> Result<Vec<PhotoRecord>, MediaError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let slots: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT {PHOTO_COLUMNS} FROM photos WHERE id IN ({})",
            slots.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id as i64);
        }
        let rows = query.fetch_all(self.database.pool()).await?;
        rows.iter().map(photo_from_row).collect()
    }

    /// An author's photos with ids below `before`, newest first; `ready_only` for other viewers.
    pub async fn photos_of(
        &self,
        author_id: u64,
        before: u64,
        limit: u32,
        ready_only: bool,
    ) -> Result<Vec<PhotoRecord>, MediaError> {
        let sql = format!(
            "SELECT {PHOTO_COLUMNS} FROM photos WHERE author_id = $1 AND id < $2 AND deleted_at_ms IS NULL {} \
             ORDER BY id DESC LIMIT $3",
            if ready_only { "AND status = 'ready'" } else { "" }
        );
        let rows = sqlx::query(&sql)
            .bind(author_id as i64)
            .bind(before.min(i64::MAX as u64) as i64)
            .bind(i64::from(limit))
            .fetch_all(self.database.pool())
            .await?;
        rows.iter().map(photo_from_row).collect()
    }

    /// Ready, undeleted photos per author (authors without any are absent).
    pub async fn count_photos(&self, author_ids: &[u64]) -> Result<Vec<(u64, u64)>, MediaError> {
        if author_ids.is_empty() {
            return Ok(Vec::new());
        }
        let slots: Vec<String> = (1..=author_ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT author_id, COUNT(*) AS photos FROM photos WHERE author_id IN ({}) \
             AND status = 'ready' AND deleted_at_ms IS NULL GROUP BY author_id",
            slots.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in author_ids {
            query = query.bind(*id as i64);
        }
        let rows = query.fetch_all(self.database.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get::<i64, _>("author_id")? as u64,
                    row.try_get::<i64, _>("photos")? as u64,
                ))
            })
            .collect()
    }

    pub async fn update_texts(
        &self,
        id: u64,
        caption: Option<(&str, &[String], &[String])>,
        alt_text: Option<&str>,
        location: Option<&str>,
        now_ms: i64,
    ) -> Result<(), MediaError> {
        sqlx::query(
            "UPDATE photos SET caption = COALESCE($2, caption), hashtags = COALESCE($3, hashtags), \
             mentions = COALESCE($4, mentions), alt_text = COALESCE($5, alt_text), \
             location = COALESCE($6, location), updated_at_ms = $7 WHERE id = $1 AND deleted_at_ms IS NULL",
        )
        .bind(id as i64)
        .bind(caption.map(|(text, _, _)| text))
        .bind(caption.map(|(_, tags, _)| json(tags)))
        .bind(caption.map(|(_, _, mentions)| json(mentions)))
        .bind(alt_text)
        .bind(location)
        .bind(now_ms)
        .execute(self.database.pool())
        .await?;
        Ok(())
    }

    /// Marks the photo deleted and enqueues `photo.deleted`. False if it was already gone.
    pub async fn delete_photo(
        &self,
        id: u64,
        event_id: u64,
        event: &Message,
        now_ms: i64,
    ) -> Result<bool, MediaError> {
        let mut tx = self.database.pool().begin().await?;
        let deleted = sqlx::query("UPDATE photos SET deleted_at_ms = $2, updated_at_ms = $2 WHERE id = $1 AND deleted_at_ms IS NULL")
            .bind(id as i64)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }
        photoshare_events::enqueue(&mut tx, event_id, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records the worker's outcome if the photo is still processing (a re-delivered report
    /// changes nothing). `event` (photo.published) is enqueued only when it becomes ready.
    pub async fn finish_processing(
        &self,
        id: u64,
        outcome: &Outcome<'_>,
        published: Option<(u64, &Message)>,
        now_ms: i64,
    ) -> Result<bool, MediaError> {
        let mut tx: Transaction<'_, Any> = self.database.pool().begin().await?;
        let changed = match outcome {
            Outcome::Ready { width, height, blurhash, variants } => sqlx::query(
                "UPDATE photos SET status = 'ready', width = $2, height = $3, blurhash = $4, variants = $5, updated_at_ms = $6 \
                 WHERE id = $1 AND status = 'processing'",
            )
            .bind(id as i64)
            .bind(i64::from(*width))
            .bind(i64::from(*height))
            .bind(*blurhash)
            .bind(serde_json::to_string(variants).expect("variants serialise"))
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Outcome::Failed { reason } => sqlx::query(
                "UPDATE photos SET status = 'failed', failure_reason = $2, updated_at_ms = $3 WHERE id = $1 AND status = 'processing'",
            )
            .bind(id as i64)
            .bind(*reason)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if changed == 0 {
            return Ok(false);
        }
        if let (Outcome::Ready { .. }, Some((event_id, event))) = (outcome, published) {
            photoshare_events::enqueue(&mut tx, event_id, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

fn json(values: &[String]) -> String {
    serde_json::to_string(values).expect("strings serialise")
}

fn strings(row: &AnyRow, column: &str) -> Result<Vec<String>, MediaError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|error| MediaError::Corrupt(format!("{column}: {error}")))
}

fn upload_from_row(row: &AnyRow) -> Result<UploadRecord, MediaError> {
    Ok(UploadRecord {
        id: row.try_get::<i64, _>("id")? as u64,
        user_id: row.try_get::<i64, _>("user_id")? as u64,
        object_key: row.try_get("object_key")?,
        content_type: row.try_get("content_type")?,
        content_length: row.try_get::<i64, _>("content_length")? as u64,
        expires_at_ms: row.try_get("expires_at_ms")?,
        idempotency_key: row.try_get("idempotency_key")?,
        photo_id: row
            .try_get::<Option<i64>, _>("photo_id")?
            .map(|id| id as u64),
    })
}

fn photo_from_row(row: &AnyRow) -> Result<PhotoRecord, MediaError> {
    let variants: String = row.try_get("variants")?;
    Ok(PhotoRecord {
        id: row.try_get::<i64, _>("id")? as u64,
        author_id: row.try_get::<i64, _>("author_id")? as u64,
        original_key: row.try_get("original_key")?,
        caption: row.try_get("caption")?,
        alt_text: row.try_get("alt_text")?,
        location: row.try_get("location")?,
        hashtags: strings(row, "hashtags")?,
        mentions: strings(row, "mentions")?,
        status: row.try_get("status")?,
        failure_reason: row.try_get("failure_reason")?,
        width: row.try_get::<Option<i64>, _>("width")?.unwrap_or(0) as u32,
        height: row.try_get::<Option<i64>, _>("height")?.unwrap_or(0) as u32,
        blurhash: row.try_get("blurhash")?,
        variants: serde_json::from_str(&variants)
            .map_err(|error| MediaError::Corrupt(format!("variants: {error}")))?,
        created_at_ms: row.try_get("created_at_ms")?,
        deleted: row.try_get::<Option<i64>, _>("deleted_at_ms")?.is_some(),
    })
}
