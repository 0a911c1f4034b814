//! The transactional outbox. A service writes its event into its own `outbox` table in the same
//! transaction as the state change ([`enqueue`]); the [`Relay`] publishes unsent rows in id order
//! and marks them sent. A broker that is down delays events, never loses them, and a crash between
//! publishing and marking only causes a duplicate, which consumers already tolerate.
//!
//! The table is defined once, in `outbox.sql`, and a producing service lists
//! [`OUTBOX_MIGRATION`] among its migrations at a version of its own:
//!
//! ```text
//! static MIGRATIONS: &[MigrationFile] = embed_migrations!(
//!     "../../../migrations/users",
//!     1 => "0001_init",
//!     2 => shared(photoshare_events::OUTBOX_MIGRATION),
//! );
//! ```
//!
//! media, graph and engagement predate it and create the same table in their own
//! `0001_init.sql`. Those copies stay: they are applied history, and sqlx refuses to start a
//! database whose applied migration no longer matches its checksum. The test
//! `tests/outbox_schema.rs` keeps them equal to the shared definition, column for column.

use photoshare_ids::unix_ms_now;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use photoshare_db::{Database, MigrationFile};
use sqlx::{Any, Row, Transaction};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{Backoff, EventBus, EventError, Message};

/// The outbox table, for a producing service's migration list (`IF NOT EXISTS`, so it is a
/// no-op where an older migration already made the same table).
pub const OUTBOX_MIGRATION: MigrationFile = MigrationFile {
    version: 0,
    description: "outbox",
    sql: include_str!("outbox.sql"),
};

const BATCH: i64 = 100;
/// Sent rows are kept this long (for debugging), then deleted.
const KEEP_SENT: Duration = Duration::from_secs(24 * 3600);
/// Without a wake-up, the relay still looks this often (rows written by another replica).
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Writes `message` into the outbox inside the caller's transaction.
pub async fn enqueue(
    tx: &mut Transaction<'_, Any>,
    event_id: u64,
    message: &Message,
) -> Result<(), EventError> {
    sqlx::query(
        "INSERT INTO outbox (id, topic, record_key, value_base64, headers, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event_id as i64)
    .bind(&message.topic)
    .bind(&message.key)
    .bind(STANDARD.encode(&message.value))
    .bind(serde_json::to_string(&message.headers).expect("string pairs serialise"))
    .bind(unix_ms_now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub struct Relay {
    database: Database,
    bus: Arc<dyn EventBus>,
    wake: Arc<Notify>,
}

impl Relay {
    pub fn new(database: Database, bus: Arc<dyn EventBus>) -> Relay {
        Relay {
            database,
            bus,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Call `notify_one()` on this after committing an outbox row to publish it at once.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Rows not yet published.
    pub async fn backlog(&self) -> Result<i64, EventError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at_ms IS NULL")
                .fetch_one(self.database.pool())
                .await?,
        )
    }

    /// Publishes every pending row in id order; stops at the first failure (order matters per key).
    pub async fn relay_pending(&self) -> Result<usize, EventError> {
        let mut published = 0;
        loop {
            let rows = sqlx::query(
                "SELECT id, topic, record_key, value_base64, headers FROM outbox \
                 WHERE sent_at_ms IS NULL ORDER BY id LIMIT $1",
            )
            .bind(BATCH)
            .fetch_all(self.database.pool())
            .await?;
            if rows.is_empty() {
                return Ok(published);
            }
            for row in rows {
                let id: i64 = row.try_get("id")?;
                let value: String = row.try_get("value_base64")?;
                let headers: String = row.try_get("headers")?;
                let message = Message {
                    topic: row.try_get("topic")?,
                    key: row.try_get("record_key")?,
                    value: STANDARD.decode(value).map_err(|error| {
                        EventError::Malformed(format!("outbox row {id}: {error}"))
                    })?,
                    headers: serde_json::from_str(&headers).map_err(|error| {
                        EventError::Malformed(format!("outbox row {id}: {error}"))
                    })?,
                };
                self.bus.publish(&message).await?;
                sqlx::query("UPDATE outbox SET sent_at_ms = $2 WHERE id = $1")
                    .bind(id)
                    .bind(unix_ms_now())
                    .execute(self.database.pool())
                    .await?;
                published += 1;
            }
        }
    }

    async fn forget_old_sent(&self) -> Result<(), EventError> {
        sqlx::query("DELETE FROM outbox WHERE sent_at_ms IS NOT NULL AND sent_at_ms < $1")
            .bind(unix_ms_now() - KEEP_SENT.as_millis() as i64)
            .execute(self.database.pool())
            .await?;
        Ok(())
    }

    /// Relays until `shutdown`, backing off while the broker or the database fails.
    pub async fn run(self, shutdown: CancellationToken) {
        let backoff = Backoff {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
            max_attempts: u32::MAX,
        };
        let mut failures = 0;
        let mut rounds: u64 = 0;
        loop {
            let wait = match self.relay_pending().await {
                Ok(count) => {
                    if failures > 0 {
                        tracing::info!(count, "outbox relay recovered");
                    }
                    failures = 0;
                    rounds += 1;
                    if rounds % 1000 == 1 {
                        if let Err(error) = self.forget_old_sent().await {
                            tracing::warn!(%error, "could not prune the outbox");
                        }
                    }
                    IDLE_POLL
                }
                Err(error) => {
                    failures += 1;
                    tracing::warn!(%error, failures, "outbox relay failed; will retry");
                    backoff.wait(failures, Backoff::random_unit())
                }
            };
            let wake = self.wake.clone();
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}
