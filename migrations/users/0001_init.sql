-- The users service's tables. Portable SQL: runs on SQLite and PostgreSQL alike.
-- Ids are the 64-bit time-ordered ids of photoshare-ids; times are Unix milliseconds.

CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    -- Stored lower-case: usernames are unique regardless of case.
    username TEXT NOT NULL UNIQUE,
    -- As the person typed it, for display and mail.
    email TEXT NOT NULL,
    -- Lower-cased, for uniqueness and login.
    email_normalized TEXT NOT NULL UNIQUE,
    -- Argon2id PHC string.
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    bio TEXT NOT NULL DEFAULT '',
    -- 0 or 1: sqlx's Any driver cannot carry SQLite booleans, so flags are BIGINT.
    is_private BIGINT NOT NULL DEFAULT 0 CHECK (is_private IN (0, 1)),
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- One row per login: the refresh tokens of a login rotate within its session.
CREATE TABLE sessions (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT,
    -- 'logout' or 'refresh_token_reuse'.
    revoked_reason TEXT
);

CREATE INDEX sessions_by_user ON sessions (user_id);

-- Refresh tokens are opaque random strings; only their SHA-256 is stored.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id),
    issued_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    -- Set when this token was exchanged for the next; presenting it again revokes the session.
    rotated_at_ms BIGINT
);

CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
