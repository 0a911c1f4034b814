-- The transactional outbox (photoshare-events): events written in the transaction of their state
-- change, published by the relay in id order. Shared by every producing service through
-- `photoshare_events::OUTBOX_MIGRATION`; never edit it once released (sqlx checksums it).
CREATE TABLE IF NOT EXISTS outbox (
    id BIGINT PRIMARY KEY,          -- the event id (time-ordered)
    topic TEXT NOT NULL,
    record_key TEXT NOT NULL,
    value_base64 TEXT NOT NULL,     -- TEXT: one column type on SQLite and PostgreSQL
    headers TEXT NOT NULL,          -- JSON array of [name, value]
    created_at_ms BIGINT NOT NULL,
    sent_at_ms BIGINT
);

CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (sent_at_ms, id);
