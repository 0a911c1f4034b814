-- The Idempotency-Keys of comments: for a day, the same user sending the same key gets the
-- first answer again instead of a second comment. The row keeps that answer (the comment as
-- created) so a retry is answered, and judged, even after the comment was deleted.
CREATE TABLE comment_keys (
    user_id BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL,
    comment_id BIGINT NOT NULL,
    photo_id BIGINT NOT NULL,
    text TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);

CREATE INDEX comment_keys_by_expiry ON comment_keys (expires_at_ms);
