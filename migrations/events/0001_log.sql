-- The embedded event log of `photoshare dev` (SQLite only; production uses Kafka).

CREATE TABLE event_log (
    -- Append order: the offset consumers commit.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    record_key TEXT NOT NULL,
    value BLOB NOT NULL,
    -- JSON array of [name, value] pairs.
    headers TEXT NOT NULL,
    appended_at_ms BIGINT NOT NULL
);

CREATE INDEX event_log_by_topic ON event_log (topic, id);

CREATE TABLE consumer_offsets (
    group_name TEXT NOT NULL,
    topic TEXT NOT NULL,
    -- The highest event_log.id this group has handled on this topic.
    committed_id BIGINT NOT NULL,
    PRIMARY KEY (group_name, topic)
);
