-- A producer's own table, beside the shared outbox (photoshare_events::OUTBOX_MIGRATION).
CREATE TABLE things (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL
);
