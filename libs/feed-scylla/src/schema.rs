//! The CQL schema (`migrations/scylla`), embedded and split into the statements that
//! [`crate::ScyllaPostStore::connect`] runs, and the checks on a keyspace name before it is
//! written into CQL text.

/// One migration file: run in order at every connect, so each must be idempotent
/// (`CREATE ... IF NOT EXISTS`). CQL has no transactions and no migration ledger of its own,
/// which is why the files are idempotent rather than tracked.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub name: &'static str,
    pub cql: &'static str,
}

/// Every file of `migrations/scylla`, in order.
pub static MIGRATIONS: &[Migration] = &[Migration {
    name: "0001_init",
    cql: include_str!("../../../migrations/scylla/0001_init.cql"),
}];

/// How long a row of `deleted_posts` lives (the table's `default_time_to_live`): 30 days.
pub const DELETED_POSTS_TTL_SECS: u32 = 30 * 24 * 60 * 60;

/// The statements of a CQL file, in order, without comments (`--`, `//` and `/* */`) or
/// surrounding whitespace. Statements end at `;` outside string literals; the last may omit it.
pub fn statements(cql: &str) -> Vec<String> {
    #[derive(PartialEq)]
    enum State {
        Code,
        Quoted,
        LineComment,
        BlockComment,
    }
    let mut state = State::Code;
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut chars = cql.chars().peekable();
    while let Some(c) = chars.next() {
        match state {
            State::Code => match c {
                '\'' => {
                    state = State::Quoted;
                    current.push(c);
                }
                '-' if chars.peek() == Some(&'-') => {
                    chars.next();
                    state = State::LineComment;
                }
                '/' if chars.peek() == Some(&'/') => {
                    chars.next();
                    state = State::LineComment;
                }
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    state = State::BlockComment;
                }
                ';' => {
                    push_statement(&mut statements, &mut current);
                }
                _ => current.push(c),
            },
            State::Quoted => {
                // A quote inside a literal is written twice ('it''s'): leaving and re-entering
                // the literal reads it correctly.
                current.push(c);
                if c == '\'' {
                    state = State::Code;
                }
            }
            State::LineComment => {
                if c == '\n' {
                    state = State::Code;
                    current.push('\n');
                }
            }
            State::BlockComment => {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    state = State::Code;
                    current.push(' ');
                }
            }
        }
    }
    push_statement(&mut statements, &mut current);
    statements
}

fn push_statement(statements: &mut Vec<String>, current: &mut String) {
    let statement = current.trim();
    if !statement.is_empty() {
        statements.push(statement.to_owned());
    }
    current.clear();
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "invalid keyspace name {0:?}: use 1 to 48 lowercase letters, digits or underscores, \
         starting with a letter"
    )]
    InvalidKeyspace(String),
    #[error("a keyspace needs a replication factor of at least 1")]
    ZeroReplicationFactor,
}

/// Checks that `name` is a plain, unquoted CQL keyspace name, since it is written into
/// statement text (a bind marker cannot stand for a name). Lowercase only: unquoted names are
/// folded to lowercase, so `Photoshare` would silently be `photoshare`.
pub fn validate_keyspace(name: &str) -> Result<(), SchemaError> {
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if starts_with_letter && rest_ok && name.len() <= 48 {
        Ok(())
    } else {
        Err(SchemaError::InvalidKeyspace(name.to_owned()))
    }
}

/// `CREATE KEYSPACE` for development and tests: `SimpleStrategy` ignores data centres, which is
/// right for one node and wrong for production, where the operator creates the keyspace with
/// `NetworkTopologyStrategy` (see `migrations/scylla/0001_init.cql`).
pub fn create_keyspace(keyspace: &str, replication_factor: u32) -> Result<String, SchemaError> {
    validate_keyspace(keyspace)?;
    if replication_factor == 0 {
        return Err(SchemaError::ZeroReplicationFactor);
    }
    Ok(format!(
        "CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = \
         {{'class': 'SimpleStrategy', 'replication_factor': {replication_factor}}}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalised(statement: &str) -> String {
        statement.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn init() -> Vec<String> {
        statements(MIGRATIONS[0].cql)
            .iter()
            .map(|s| normalised(s))
            .collect()
    }

    #[test]
    fn the_init_file_creates_four_tables_idempotently() {
        let statements = init();
        let tables: Vec<&str> = statements
            .iter()
            .map(|s| {
                s.strip_prefix("CREATE TABLE IF NOT EXISTS ")
                    .unwrap_or_else(|| panic!("not an idempotent CREATE TABLE: {s}"))
                    .split(' ')
                    .next()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            tables,
            [
                "posts_by_author",
                "author_buckets",
                "deleted_posts",
                "unpushed_authors"
            ]
        );
        for statement in &statements {
            assert!(!statement.contains("--"), "a comment survived: {statement}");
            assert!(
                !statement.contains("photoshare."),
                "tables are created in the session's keyspace, not a fixed one: {statement}"
            );
        }
    }

    #[test]
    fn the_keyspace_is_left_to_the_operator() {
        assert!(init().iter().all(|s| !s.contains("KEYSPACE")));
        // ... but the file documents how to create it.
        assert!(MIGRATIONS[0].cql.contains(
            "CREATE KEYSPACE photoshare\n--     WITH replication = \
             {'class': 'NetworkTopologyStrategy', 'replication_factor': 3};"
        ));
    }

    #[test]
    fn posts_are_bucketed_and_clustered_newest_first() {
        let statements = init();
        let posts = &statements[0];
        assert!(
            posts.contains("PRIMARY KEY ((author_id, bucket), post_id)"),
            "{posts}"
        );
        assert!(
            posts.ends_with("WITH CLUSTERING ORDER BY (post_id DESC)"),
            "{posts}"
        );
        assert!(posts.contains("author_id bigint, bucket int, post_id bigint"));
        let buckets = &statements[1];
        assert!(buckets.contains("PRIMARY KEY (author_id, bucket)"));
        assert!(buckets.ends_with("WITH CLUSTERING ORDER BY (bucket DESC)"));
    }

    #[test]
    fn tombstones_expire_after_30_days() {
        let deleted = &init()[2];
        assert!(deleted.contains("post_id bigint PRIMARY KEY"));
        assert!(deleted.ends_with(&format!(
            "WITH default_time_to_live = {DELETED_POSTS_TTL_SECS}"
        )));
        assert_eq!(DELETED_POSTS_TTL_SECS, 2_592_000);
    }

    #[test]
    fn every_migration_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/scylla");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "cql"))
            .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = MIGRATIONS.iter().map(|m| m.name).collect();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn splitting_skips_comments_and_respects_literals() {
        let cql = "-- a comment; with a semicolon\n\
                   CREATE TABLE a (x int PRIMARY KEY); // trailing; comment\n\
                   /* block; comment */ INSERT INTO a (x, y) VALUES (1, 'it''s; -- not a comment');\n\
                   \n  ;  \n\
                   SELECT * FROM a";
        assert_eq!(
            statements(cql),
            [
                "CREATE TABLE a (x int PRIMARY KEY)",
                "INSERT INTO a (x, y) VALUES (1, 'it''s; -- not a comment')",
                "SELECT * FROM a",
            ]
        );
        assert!(statements("-- only a comment\n").is_empty());
        assert!(statements("").is_empty());
    }

    #[test]
    fn keyspace_names_are_plain_identifiers() {
        for good in ["photoshare", "feed_scylla_123_4_0", "a", &"k".repeat(48)] {
            validate_keyspace(good).unwrap();
        }
        for bad in [
            "",
            "1photoshare",
            "_photoshare",
            "Photoshare",
            "photo-share",
            "photoshare; DROP KEYSPACE x",
            "\"quoted\"",
            &"k".repeat(49),
        ] {
            assert!(validate_keyspace(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_development_keyspace_is_simple_strategy() {
        assert_eq!(
            create_keyspace("feed_test", 1).unwrap(),
            "CREATE KEYSPACE IF NOT EXISTS feed_test WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}"
        );
        assert!(create_keyspace("feed_test", 0).is_err());
        assert!(create_keyspace("x; DROP", 1).is_err());
    }
}
