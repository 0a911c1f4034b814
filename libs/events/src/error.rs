//! What can fail in the event plumbing.

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("event log database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event log: {0}")]
    Db(#[from] photoshare_db::DbError),
    #[error("broker: {0}")]
    Broker(String),
    #[error("malformed event: {0}")]
    Malformed(String),
}
