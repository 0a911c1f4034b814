-- The feed's durable store on SQLite or PostgreSQL: the same shape as the Scylla tables in
-- migrations/scylla/ (for operators who do not run Scylla, and for `photoshare dev`). Ids are
-- photoshare ids; a post id orders posts by time.

-- Every published post, by author, newest first: fan-out on read and cache rebuilds read it.
CREATE TABLE posts_by_author (
    author_id BIGINT NOT NULL,
    post_id BIGINT NOT NULL,
    PRIMARY KEY (author_id, post_id)
);

-- "Which of these posts still exist", checked on every feed read.
CREATE INDEX posts_by_post_id ON posts_by_author (post_id);

-- Deleted posts, so that a publish event that arrives after the delete cannot bring the post
-- back.
CREATE TABLE deleted_posts (
    post_id BIGINT PRIMARY KEY,
    author_id BIGINT NOT NULL,
    deleted_at_ms BIGINT NOT NULL
);

-- Authors with posts that were not pushed into followers' caches (they had more followers than
-- the fan-out threshold). When such an author falls below the threshold, the fan-out worker
-- pushes their recent posts and removes the row.
CREATE TABLE unpushed_authors (
    author_id BIGINT PRIMARY KEY,
    since_ms BIGINT NOT NULL
);
