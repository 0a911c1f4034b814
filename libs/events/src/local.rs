//! The embedded event bus: a durable log in a SQLite file (`<data_dir>/events.db`), with
//! committed offsets per consumer group, so events and progress survive a restart exactly as
//! with Kafka. Consumers in this process are woken at once; others poll.
//!
//! One consumer per group: the log does not balance a group across processes (Kafka does).

use photoshare_ids::unix_ms_now;
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use photoshare_db::{embed_migrations, Database, DatabaseLocation, MigrationFile};
use sqlx::Row;
use tokio::sync::Notify;

use crate::bus::Position;
use crate::{Delivery, EventBus, EventError, Message, Subscription};

static MIGRATIONS: &[MigrationFile] =
    embed_migrations!("../../../migrations/events", 1 => "0001_log");

/// How long an idle consumer waits before looking again when nobody in-process wakes it.
const POLL_INTERVAL: Duration = Duration::from_millis(200);
const BATCH: i64 = 100;

#[derive(Clone)]
pub struct LocalLog {
    database: Database,
    appended: Arc<Notify>,
}

impl LocalLog {
    /// Opens (or creates) the log in `data_dir`.
    pub async fn open(data_dir: &Path) -> Result<LocalLog, EventError> {
        let location = DatabaseLocation::Sqlite {
            path: data_dir.join("events.db"),
        };
        let database = Database::open(&location).await?;
        database.migrate(MIGRATIONS).await?;
        Ok(LocalLog {
            database,
            appended: Arc::new(Notify::new()),
        })
    }
}

#[async_trait]
impl EventBus for LocalLog {
    async fn publish(&self, message: &Message) -> Result<(), EventError> {
        let headers = serde_json::to_string(&message.headers).expect("string pairs serialise");
        sqlx::query(
            "INSERT INTO event_log (topic, record_key, value, headers, appended_at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&message.topic)
        .bind(&message.key)
        .bind(message.value.clone())
        .bind(headers)
        .bind(unix_ms_now())
        .execute(self.database.pool())
        .await?;
        self.appended.notify_waiters();
        Ok(())
    }

    async fn subscribe(
        &self,
        group: &str,
        topics: &[String],
    ) -> Result<Box<dyn Subscription>, EventError> {
        let mut positions = HashMap::new();
        for topic in topics {
            let committed: Option<i64> = sqlx::query_scalar(
                "SELECT committed_id FROM consumer_offsets WHERE group_name = $1 AND topic = $2",
            )
            .bind(group)
            .bind(topic)
            .fetch_optional(self.database.pool())
            .await?;
            positions.insert(topic.clone(), committed.unwrap_or(0));
        }
        Ok(Box::new(LocalSubscription {
            log: self.clone(),
            group: group.to_owned(),
            positions,
            buffered: VecDeque::new(),
        }))
    }
}

struct LocalSubscription {
    log: LocalLog,
    group: String,
    /// Per topic, the last row id handed out (not necessarily committed).
    positions: HashMap<String, i64>,
    buffered: VecDeque<Delivery>,
}

impl LocalSubscription {
    async fn fetch(&mut self) -> Result<(), EventError> {
        let mut rows = Vec::new();
        for (topic, after) in &self.positions {
            let batch = sqlx::query(
                "SELECT id, topic, record_key, value, headers FROM event_log \
                 WHERE topic = $1 AND id > $2 ORDER BY id LIMIT $3",
            )
            .bind(topic)
            .bind(*after)
            .bind(BATCH)
            .fetch_all(self.log.database.pool())
            .await?;
            rows.extend(batch);
        }
        let mut deliveries = rows
            .iter()
            .map(|row| {
                let id: i64 = row.try_get("id")?;
                let headers: String = row.try_get("headers")?;
                let message = Message {
                    topic: row.try_get("topic")?,
                    key: row.try_get("record_key")?,
                    value: row.try_get("value")?,
                    headers: serde_json::from_str(&headers).map_err(|error| {
                        EventError::Malformed(format!("headers of event {id}: {error}"))
                    })?,
                };
                Ok(Delivery {
                    message,
                    position: Position::Local(id),
                })
            })
            .collect::<Result<Vec<_>, EventError>>()?;
        deliveries.sort_by_key(|delivery| local_id(delivery).unwrap_or(0));
        for delivery in &deliveries {
            if let Some(id) = local_id(delivery) {
                self.positions.insert(delivery.message.topic.clone(), id);
            }
        }
        self.buffered.extend(deliveries);
        Ok(())
    }
}

#[async_trait]
impl Subscription for LocalSubscription {
    async fn next(&mut self) -> Result<Delivery, EventError> {
        loop {
            if let Some(delivery) = self.buffered.pop_front() {
                return Ok(delivery);
            }
            // Register interest before looking, so an append in between is not missed.
            let appended = self.log.appended.clone();
            let notified = appended.notified();
            self.fetch().await?;
            if self.buffered.is_empty() {
                let _ = tokio::time::timeout(POLL_INTERVAL, notified).await;
            }
        }
    }

    async fn commit(&mut self, delivery: &Delivery) -> Result<(), EventError> {
        let id = local_id(delivery)
            .ok_or_else(|| EventError::Broker("a delivery of another bus".into()))?;
        sqlx::query(
            "INSERT INTO consumer_offsets (group_name, topic, committed_id) VALUES ($1, $2, $3) \
             ON CONFLICT (group_name, topic) DO UPDATE SET committed_id = excluded.committed_id \
             WHERE consumer_offsets.committed_id < excluded.committed_id",
        )
        .bind(&self.group)
        .bind(&delivery.message.topic)
        .bind(id)
        .execute(self.log.database.pool())
        .await?;
        Ok(())
    }
}

fn local_id(delivery: &Delivery) -> Option<i64> {
    match delivery.position {
        Position::Local(id) => Some(id),
        Position::Kafka { .. } => None,
    }
}
