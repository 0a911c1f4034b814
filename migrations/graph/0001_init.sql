-- The graph service's tables. Portable SQL (SQLite and PostgreSQL); ids are photoshare-ids,
-- times Unix milliseconds. Users live in the users service: their ids are plain numbers here,
-- never foreign keys.

-- One row per follower and followee. The id is time-ordered (when the follow began, or when a
-- request became a follow): it orders both lists newest first and is their cursor.
CREATE TABLE follows (
    id BIGINT PRIMARY KEY,
    follower_id BIGINT NOT NULL,
    followee_id BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    CHECK (follower_id <> followee_id)
);

-- One edge per pair; also answers "does the viewer follow these users".
CREATE UNIQUE INDEX follows_by_pair ON follows (follower_id, followee_id);
-- A user's followers by follower id: StreamFollowers' keyset and "do these users follow the
-- viewer".
CREATE INDEX follows_by_followee ON follows (followee_id, follower_id);
-- A user's followers and followings in id (= time) order, covering the list queries.
CREATE INDEX follows_followers_page ON follows (followee_id, id, follower_id);
CREATE INDEX follows_following_page ON follows (follower_id, id, followee_id);

-- Pending requests to follow a private account: the owner approves (the row becomes a follow)
-- or denies (the row goes). The id is time-ordered: the owner's list, newest first, and its
-- cursor.
CREATE TABLE follow_requests (
    id BIGINT PRIMARY KEY,
    requester_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    CHECK (requester_id <> owner_id)
);

-- One pending request per pair; also answers "has the viewer asked to follow these users".
CREATE UNIQUE INDEX follow_requests_by_pair ON follow_requests (requester_id, owner_id);
-- An owner's pending requests in id (= time) order.
CREATE INDEX follow_requests_page ON follow_requests (owner_id, id, requester_id);

-- The counts per user, changed in the transaction of every follow and unfollow, so that reads
-- never count rows. A user nobody followed and who follows nobody has no row (zeros).
CREATE TABLE follow_counts (
    user_id BIGINT PRIMARY KEY,
    followers_count BIGINT NOT NULL DEFAULT 0,
    following_count BIGINT NOT NULL DEFAULT 0,
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
