CREATE TABLE things (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE outbox (
    id BIGINT PRIMARY KEY,
    topic TEXT NOT NULL,
    record_key TEXT NOT NULL,
    value_base64 TEXT NOT NULL,
    headers TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    sent_at_ms BIGINT
);
CREATE INDEX outbox_unsent ON outbox (sent_at_ms, id);
