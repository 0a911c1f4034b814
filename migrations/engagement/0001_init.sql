-- The engagement service's tables. Portable SQL (SQLite and PostgreSQL); ids are photoshare-ids,
-- times Unix milliseconds. Photos and users live in other services: their ids are plain numbers
-- here, never foreign keys.

-- One row per user and photo that the user likes. The id is time-ordered: it orders a photo's
-- likers (newest first) and is the cursor of that list.
CREATE TABLE likes (
    id BIGINT PRIMARY KEY,
    photo_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

-- One like per user and photo; also answers "did this viewer like these photos".
CREATE UNIQUE INDEX likes_by_photo_and_user ON likes (photo_id, user_id);
-- A photo's likers in id (= time) order.
CREATE INDEX likes_by_photo ON likes (photo_id, id);

-- Comments; a deleted comment's row is removed.
CREATE TABLE comments (
    id BIGINT PRIMARY KEY,
    photo_id BIGINT NOT NULL,
    author_id BIGINT NOT NULL,
    -- The photo's author when the comment was written: it may delete the comment as well.
    photo_author_id BIGINT NOT NULL,
    text TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

-- A photo's comments in id (= time) order.
CREATE INDEX comments_by_photo ON comments (photo_id, id);

-- The counts per photo, changed in the transaction of each like, unlike, comment and deletion,
-- so that reads never count rows. A photo nobody touched has no row (its counts are zero).
CREATE TABLE photo_stats (
    photo_id BIGINT PRIMARY KEY,
    like_count BIGINT NOT NULL DEFAULT 0,
    comment_count BIGINT NOT NULL DEFAULT 0,
    updated_at_ms BIGINT NOT NULL
);

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
