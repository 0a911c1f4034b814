-- Token revocations that gateways poll, and the Idempotency-Keys of sign-ups.

-- Access tokens that must be refused before they expire: every token of a session (logout,
-- refresh-token re-use), or every token of an account issued up to `recorded_at_ms`. Written
-- in the transaction that revokes; gateways read them in (recorded_at_ms, id) order. A row is
-- useless once `expires_at_ms` passed (no token it covers is valid any more) and is purged.
CREATE TABLE revocations (
    id BIGINT PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('session', 'user')),
    subject_id BIGINT NOT NULL,
    -- 'logout' or 'refresh_token_reuse' (more with suspensions and deletions).
    reason TEXT NOT NULL,
    recorded_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);

CREATE INDEX revocations_in_order ON revocations (recorded_at_ms, id);
CREATE INDEX revocations_by_expiry ON revocations (expires_at_ms);

-- A sign-up made with an Idempotency-Key. The key is only meaningful with the account it
-- creates, so the row is found by SHA-256 of (key, username, email): a retry of the same
-- sign-up finds it, anybody else's sign-up cannot. The password is not kept here: a retry
-- proves it against the account's own Argon2id hash.
CREATE TABLE signup_keys (
    scope_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    -- The display name the sign-up asked for, NULL if it asked for none.
    display_name TEXT,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);

CREATE INDEX signup_keys_by_expiry ON signup_keys (expires_at_ms);
