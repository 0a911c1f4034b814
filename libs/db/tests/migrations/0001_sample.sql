CREATE TABLE items (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    hidden BIGINT NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    note TEXT
);
