-- The media service's tables. Portable SQL (SQLite and PostgreSQL); ids are photoshare-ids,
-- times Unix milliseconds.

-- A reserved object key the app may PUT to until expires_at_ms.
CREATE TABLE uploads (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    object_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content_length BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    -- The client's Idempotency-Key, if any: a retry with it returns this upload.
    idempotency_key TEXT,
    -- Set when the upload became a photo; an upload becomes at most one.
    photo_id BIGINT UNIQUE
);

CREATE UNIQUE INDEX uploads_by_idempotency_key ON uploads (user_id, idempotency_key);

CREATE TABLE photos (
    id BIGINT PRIMARY KEY,
    author_id BIGINT NOT NULL,
    upload_id BIGINT NOT NULL UNIQUE,
    original_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    caption TEXT NOT NULL,
    alt_text TEXT NOT NULL,
    location TEXT NOT NULL,
    -- JSON arrays of strings.
    hashtags TEXT NOT NULL,
    mentions TEXT NOT NULL,
    -- processing | ready | failed
    status TEXT NOT NULL,
    failure_reason TEXT,
    width BIGINT,
    height BIGINT,
    blurhash TEXT,
    -- JSON array of {name, width, height, content_type, object_key}.
    variants TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    deleted_at_ms BIGINT
);

-- The profile grid: one author's photos by id (= time) order.
CREATE INDEX photos_by_author ON photos (author_id, id);

-- The transactional outbox (photoshare-events).
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
