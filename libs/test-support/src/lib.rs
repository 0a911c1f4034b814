//! What photoshare's tests share: where the real backends are, unique names so that tests never
//! see each other's data, and a loud failure that says how to start a backend that is missing.
//! Tests never skip because a backend is absent.
//!
//! Only test code depends on this crate.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// `PHOTOSHARE_TEST_POSTGRES_URL`, or the PostgreSQL of a development machine.
pub fn postgres_server_url() -> String {
    std::env::var("PHOTOSHARE_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// The PostgreSQL server URL after checking that it answers; panics with instructions if not.
pub async fn require_postgres() -> String {
    let url = postgres_server_url();
    let options: PgConnectOptions = url
        .parse()
        .expect("PHOTOSHARE_TEST_POSTGRES_URL is a valid URL");
    let attempt = tokio::time::timeout(
        Duration::from_secs(5),
        options.database("postgres").connect(),
    )
    .await;
    match attempt {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            url
        }
        Ok(Err(error)) => panic!("{}", missing_postgres(&url, &error.to_string())),
        Err(_) => panic!("{}", missing_postgres(&url, "timed out after 5 s")),
    }
}

fn missing_postgres(url: &str, reason: &str) -> String {
    format!(
        "PostgreSQL is required by this test and is not reachable at {url} ({reason}).\n\
         Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
         or point PHOTOSHARE_TEST_POSTGRES_URL at a server (trust auth, a role that may CREATE DATABASE).\n\
         `scripts/test.sh` starts it for you."
    )
}

/// A name no other test (in this run or an earlier one) uses: `<stem>_<time>_<pid>_<counter>`,
/// lower-case so it is a valid PostgreSQL database name prefix.
pub fn unique_name(stem: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!(
        "{stem}_{}_{}_{}",
        millis % 100_000_000,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
