//! The outbox copies in media's, graph's and engagement's `0001_init.sql` against the one
//! definition, `OUTBOX_MIGRATION`. The copies are applied history and stay as they are (sqlx
//! checksums applied migrations); this test keeps them equal to the shared table, column for
//! column and index for index, as SQLite and PostgreSQL themselves read the DDL.

use photoshare_db::{embed_migrations, Backend, Database, DatabaseLocation, MigrationFile};
use photoshare_events::OUTBOX_MIGRATION;
use sqlx::Row;

static MEDIA: &[MigrationFile] = embed_migrations!("../../../migrations/media", 1 => "0001_init");
static GRAPH: &[MigrationFile] = embed_migrations!("../../../migrations/graph", 1 => "0001_init");
static ENGAGEMENT: &[MigrationFile] =
    embed_migrations!("../../../migrations/engagement", 1 => "0001_init");
static SHARED_ONLY: &[MigrationFile] = &[MigrationFile::shared(1, OUTBOX_MIGRATION)];

/// The outbox's columns and indexes as the database describes them, one line each.
async fn outbox_schema(database: &Database) -> Vec<String> {
    let (columns, indexes) = match database.backend() {
        Backend::Sqlite => (
            "SELECT name || ' ' || lower(type) || ' notnull=' || \"notnull\" || ' pk=' || pk \
             FROM pragma_table_info('outbox') ORDER BY cid",
            "SELECT il.name || ' unique=' || il.\"unique\" || ' #' || ii.seqno || ' ' || ii.name \
             FROM pragma_index_list('outbox') il JOIN pragma_index_info(il.name) ii \
             ORDER BY il.name, ii.seqno",
        ),
        Backend::Postgres => (
            "SELECT column_name::text || ' ' || data_type::text || ' nullable=' || \
             is_nullable::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'outbox' \
             ORDER BY ordinal_position",
            "SELECT indexdef::text FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename = 'outbox' ORDER BY indexname",
        ),
    };
    let mut lines = Vec::new();
    for query in [columns, indexes] {
        for row in sqlx::query(query).fetch_all(database.pool()).await.unwrap() {
            lines.push(row.try_get::<String, _>(0).unwrap());
        }
    }
    lines
}

async fn open(location: &DatabaseLocation, migrations: &'static [MigrationFile]) -> Database {
    let database = Database::open(location).await.unwrap();
    database.migrate(migrations).await.unwrap();
    database
}

/// `location(name)` is a fresh database called `name`.
async fn copies_match_the_shared_outbox(location: impl Fn(&str) -> DatabaseLocation) {
    let shared = outbox_schema(&open(&location("shared"), SHARED_ONLY).await).await;
    assert!(
        shared.iter().any(|line| line.contains("outbox_unsent")),
        "the shared outbox has its index: {shared:#?}"
    );
    for (service, migrations) in [
        ("media", MEDIA),
        ("graph", GRAPH),
        ("engagement", ENGAGEMENT),
    ] {
        let copy = outbox_schema(&open(&location(service), migrations).await).await;
        assert_eq!(
            copy, shared,
            "{service}'s outbox differs from OUTBOX_MIGRATION"
        );
    }
}

#[tokio::test]
async fn the_outbox_copies_match_the_shared_definition_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    copies_match_the_shared_outbox(|name| DatabaseLocation::Sqlite {
        path: dir.path().join(format!("{name}.db")),
    })
    .await;
}

#[tokio::test]
async fn the_outbox_copies_match_the_shared_definition_on_postgres() {
    let url = photoshare_test_support::require_postgres().await;
    let prefix = format!("{}_", photoshare_test_support::unique_name("outbox"));
    copies_match_the_shared_outbox(|name| {
        DatabaseLocation::resolve(name, Some(&url), &prefix, std::path::Path::new(".")).unwrap()
    })
    .await;
}

/// A service whose old migration made the table can still list the shared one: it changes
/// nothing.
#[tokio::test]
async fn the_shared_outbox_is_a_no_op_after_a_copy() {
    static MEDIA_THEN_SHARED: &[MigrationFile] = embed_migrations!(
        "../../../migrations/media",
        1 => "0001_init",
        2 => shared(OUTBOX_MIGRATION),
    );
    let dir = tempfile::tempdir().unwrap();
    let location = DatabaseLocation::Sqlite {
        path: dir.path().join("media.db"),
    };
    let before = outbox_schema(&open(&location, MEDIA).await).await;
    let after = outbox_schema(&open(&location, MEDIA_THEN_SHARED).await).await;
    assert_eq!(before, after);
}
