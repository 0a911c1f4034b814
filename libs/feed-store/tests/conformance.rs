//! The conformance suites against the embedded cache and the SQL post store on SQLite and on
//! PostgreSQL (a fresh database each).

use photoshare_db::{Database, DatabaseLocation};
use photoshare_feed_store::conformance::{run_cache_suite, run_post_store_suite};
use photoshare_feed_store::{FeedCache, MemoryCache, PostStore, SqlPostStore, MIGRATIONS};

#[tokio::test]
async fn the_memory_cache_conforms() {
    run_cache_suite(|settings| async move {
        Box::new(MemoryCache::new(settings.cap, settings.ttl)) as Box<dyn FeedCache>
    })
    .await;
}

/// Keeps every temporary directory until the test ends.
struct Dirs(std::sync::Mutex<Vec<tempfile::TempDir>>);

async fn sql_store(postgres: bool, dirs: &Dirs) -> Box<dyn PostStore> {
    let (config, dir) = photoshare_test_support::service_config(postgres).await;
    dirs.0.lock().unwrap().push(dir);
    let backends = &config.backends;
    let location = DatabaseLocation::resolve(
        "feed",
        backends.postgres_url.as_deref(),
        &backends.postgres_database_prefix,
        &config.data_dir,
    )
    .unwrap();
    let database = Database::open(&location).await.unwrap();
    database.migrate(MIGRATIONS).await.unwrap();
    Box::new(SqlPostStore::new(database))
}

#[tokio::test]
async fn the_sqlite_post_store_conforms() {
    let dirs = Dirs(Default::default());
    run_post_store_suite(|| sql_store(false, &dirs)).await;
}

#[tokio::test]
async fn the_postgres_post_store_conforms() {
    let dirs = Dirs(Default::default());
    run_post_store_suite(|| sql_store(true, &dirs)).await;
}

#[test]
fn every_migration_file_is_embedded() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/feed");
    let missing = photoshare_db::unembedded_migrations(&dir, MIGRATIONS).unwrap();
    assert!(missing.is_empty(), "not listed in MIGRATIONS: {missing:?}");
}
