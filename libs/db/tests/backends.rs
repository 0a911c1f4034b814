//! The db lib against both real backends: a fresh SQLite file and a fresh PostgreSQL database.

use photoshare_db::{
    embed_migrations, is_unique_violation, Backend, Database, DatabaseLocation, MigrationFile,
};
use sqlx::Row;

static MIGRATIONS: &[MigrationFile] =
    embed_migrations!("migrations", 1 => "0001_sample", 2 => "0002_second");

async fn sqlite(dir: &tempfile::TempDir) -> DatabaseLocation {
    DatabaseLocation::resolve("sample", None, "unused_", dir.path()).unwrap()
}

async fn postgres() -> DatabaseLocation {
    let url = photoshare_test_support::require_postgres().await;
    let prefix = format!("{}_", photoshare_test_support::unique_name("dbtest"));
    DatabaseLocation::resolve("sample", Some(&url), &prefix, std::path::Path::new(".")).unwrap()
}

async fn round_trip(location: DatabaseLocation, backend: Backend) {
    let database = Database::open(&location).await.unwrap();
    assert_eq!(database.backend(), backend);
    database.migrate(MIGRATIONS).await.unwrap();
    // Applying again is a no-op, as on every restart.
    database.migrate(MIGRATIONS).await.unwrap();
    database.ping().await.unwrap();

    let big_id: i64 = 0x3fff_ffff_ffff_fff0;
    sqlx::query("INSERT INTO items (id, name, hidden, note) VALUES ($1, $2, $3, $4)")
        .bind(big_id)
        .bind("first")
        .bind(1_i64)
        .bind(Option::<String>::None)
        .execute(database.pool())
        .await
        .unwrap();
    let row = sqlx::query("SELECT id, name, hidden, note FROM items WHERE name = $1")
        .bind("first")
        .fetch_one(database.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("id"), big_id);
    assert_eq!(row.get::<i64, _>("hidden"), 1);
    assert_eq!(row.get::<Option<String>, _>("note"), None);

    let duplicate = sqlx::query("INSERT INTO items (id, name) VALUES ($1, $2)")
        .bind(2_i64)
        .bind("first")
        .execute(database.pool())
        .await
        .unwrap_err();
    assert!(is_unique_violation(&duplicate), "{duplicate}");

    // Placeholders may appear out of order and repeat, on both backends.
    let row = sqlx::query("SELECT $2 AS b, $1 AS a, $2 AS b2")
        .bind("one")
        .bind("two")
        .fetch_one(database.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("a"), "one");
    assert_eq!(row.get::<String, _>("b2"), "two");
    database.close().await;

    // Data survives reopening.
    let reopened = Database::open(&location).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items")
        .fetch_one(reopened.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn sqlite_file_is_created_migrated_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    round_trip(sqlite(&dir).await, Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_database_is_created_migrated_and_kept() {
    round_trip(postgres().await, Backend::Postgres).await;
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error() {
    let location = DatabaseLocation::resolve(
        "sample",
        Some("postgres://nobody:secret@127.0.0.1:1"),
        "x_",
        std::path::Path::new("."),
    )
    .unwrap();
    let error = Database::open(&location).await.unwrap_err().to_string();
    assert!(error.contains("cannot reach"), "{error}");
    assert!(!error.contains("secret"), "{error}");
}
