//! The events lib on the embedded log (a real SQLite file): the bus conformance suite, what only
//! the log does (events and offsets survive reopening its file), the outbox on SQLite and
//! PostgreSQL, and the consumer runner's retries, exhausted dead letters and shutdown.

mod conformance;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use photoshare_db::{embed_migrations, Database, DatabaseLocation, MigrationFile};
use photoshare_events::*;
use tokio_util::sync::CancellationToken;

static OUTBOX_MIGRATIONS: &[MigrationFile] = embed_migrations!(
    "migrations",
    1 => "0001_things",
    2 => shared(photoshare_events::OUTBOX_MIGRATION),
);

fn event(topic: &str, key: &str, id: u64) -> Message {
    Message::event(topic, key, id, 1_000, format!("payload {id}").into_bytes())
}

async fn next(subscription: &mut Box<dyn Subscription>) -> Delivery {
    tokio::time::timeout(Duration::from_secs(5), subscription.next())
        .await
        .expect("a message within 5 s")
        .unwrap()
}

#[tokio::test]
async fn the_local_log_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let log = LocalLog::open(dir.path()).await.unwrap();
    conformance::run_bus_suite(Arc::new(log)).await;
}

#[tokio::test]
async fn the_local_log_keeps_events_and_offsets_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let topics = vec!["photo.uploaded".to_owned(), "photo.deleted".to_owned()];
    let keys = |deliveries: &[Delivery]| -> Vec<String> {
        let mut keys: Vec<String> = deliveries.iter().map(|d| d.message.key.clone()).collect();
        keys.sort();
        keys
    };
    {
        let log = LocalLog::open(dir.path()).await.unwrap();
        log.publish(&event("photo.uploaded", "a", 1)).await.unwrap();
        log.publish(&event("photo.deleted", "b", 2)).await.unwrap();
        log.publish(&event("other.topic", "c", 3)).await.unwrap();
        log.publish(&event("photo.uploaded", "d", 4)).await.unwrap();

        let mut first = log.subscribe("workers", &topics).await.unwrap();
        let mut delivered = Vec::new();
        for _ in 0..3 {
            delivered.push(next(&mut first).await);
        }
        assert_eq!(
            keys(&delivered),
            ["a", "b", "d"],
            "other topics are not delivered"
        );
        let position = |key: &str| delivered.iter().position(|d| d.message.key == key);
        assert!(
            position("a") < position("d"),
            "one topic keeps its append order"
        );
        for delivery in delivered.iter().filter(|d| d.message.key != "d") {
            first.commit(delivery).await.unwrap();
        }
        // `d` is not committed: the "process" stops here.
    }
    let log = LocalLog::open(dir.path()).await.unwrap();
    let mut again = log.subscribe("workers", &topics).await.unwrap();
    let redelivered = next(&mut again).await;
    assert_eq!(
        redelivered.message.key, "d",
        "uncommitted messages come back after a restart, committed ones do not"
    );
    assert_eq!(
        redelivered.message.envelope().unwrap().payload,
        b"payload 4"
    );

    let mut newcomer = log.subscribe("feed", &topics).await.unwrap();
    let mut delivered = Vec::new();
    for _ in 0..3 {
        delivered.push(next(&mut newcomer).await);
    }
    assert_eq!(
        keys(&delivered),
        ["a", "b", "d"],
        "a new group starts from the beginning"
    );
}

#[tokio::test]
async fn a_waiting_consumer_is_woken_by_a_publish() {
    let dir = tempfile::tempdir().unwrap();
    let log = LocalLog::open(dir.path()).await.unwrap();
    let mut subscription = log.subscribe("g", &["t".to_owned()]).await.unwrap();
    let publisher = log.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        publisher.publish(&event("t", "late", 9)).await.unwrap();
    });
    assert_eq!(next(&mut subscription).await.message.key, "late");
}

async fn outbox_relays_only_committed_events(location: DatabaseLocation) {
    let dir = tempfile::tempdir().unwrap();
    let database = Database::open(&location).await.unwrap();
    database.migrate(OUTBOX_MIGRATIONS).await.unwrap();
    let log = Arc::new(LocalLog::open(dir.path()).await.unwrap());

    for (id, commit) in [(1_u64, true), (2, false), (3, true)] {
        let mut tx = database.pool().begin().await.unwrap();
        sqlx::query("INSERT INTO things (id, name) VALUES ($1, $2)")
            .bind(id as i64)
            .bind(format!("thing {id}"))
            .execute(&mut *tx)
            .await
            .unwrap();
        enqueue(&mut tx, id, &event("thing.created", "things", id))
            .await
            .unwrap();
        if commit {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await.unwrap();
        }
    }
    let relay = Relay::new(database.clone(), log.clone());
    assert_eq!(relay.backlog().await.unwrap(), 2);
    assert_eq!(relay.relay_pending().await.unwrap(), 2);
    assert_eq!(relay.backlog().await.unwrap(), 0);
    assert_eq!(
        relay.relay_pending().await.unwrap(),
        0,
        "sent rows are not sent again"
    );

    let mut subscription = log
        .subscribe("g", &["thing.created".to_owned()])
        .await
        .unwrap();
    let id = |delivery: Delivery| delivery.message.header(HEADER_EVENT_ID).map(str::to_owned);
    assert_eq!(id(next(&mut subscription).await).as_deref(), Some("1"));
    assert_eq!(
        id(next(&mut subscription).await).as_deref(),
        Some("3"),
        "the rolled-back event never leaves"
    );
}

#[tokio::test]
async fn outbox_on_sqlite_relays_only_committed_events() {
    let dir = tempfile::tempdir().unwrap();
    outbox_relays_only_committed_events(DatabaseLocation::Sqlite {
        path: dir.path().join("svc.db"),
    })
    .await;
}

#[tokio::test]
async fn outbox_on_postgres_relays_only_committed_events() {
    let url = photoshare_test_support::require_postgres().await;
    let prefix = format!("{}_", photoshare_test_support::unique_name("dbtest"));
    let location =
        DatabaseLocation::resolve("outbox", Some(&url), &prefix, std::path::Path::new("."))
            .unwrap();
    outbox_relays_only_committed_events(location).await;
}

/// Fails the first `failures` attempts, transiently.
struct Flaky {
    failures: u32,
    attempts: AtomicU32,
    handled: Mutex<Vec<String>>,
}

#[async_trait]
impl Handler for Flaky {
    async fn handle(&self, message: &Message) -> Result<(), HandlerError> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        if attempt <= self.failures {
            return Err(HandlerError::Transient("database down".into()));
        }
        self.handled.lock().unwrap().push(message.key.clone());
        Ok(())
    }
}

fn fast_backoff(max_attempts: u32) -> Backoff {
    Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(20),
        max_attempts,
    }
}

async fn wait_until(mut condition: impl FnMut() -> bool) {
    for _ in 0..200 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("condition not met within 5 s");
}

#[tokio::test]
async fn transient_failures_are_retried_then_committed() {
    let dir = tempfile::tempdir().unwrap();
    let log: Arc<dyn EventBus> = Arc::new(LocalLog::open(dir.path()).await.unwrap());
    log.publish(&event("t", "k1", 1)).await.unwrap();
    let handler = Arc::new(Flaky {
        failures: 2,
        attempts: AtomicU32::new(0),
        handled: Mutex::new(vec![]),
    });
    let shutdown = CancellationToken::new();
    let topics = vec!["t".to_owned()];
    let runner = tokio::spawn({
        let (log, handler, shutdown, topics) = (
            log.clone(),
            handler.clone(),
            shutdown.clone(),
            topics.clone(),
        );
        async move { run_consumer(log, "g".into(), topics, handler, fast_backoff(5), shutdown).await }
    });
    wait_until(|| !handler.handled.lock().unwrap().is_empty()).await;
    assert_eq!(handler.attempts.load(Ordering::SeqCst), 3);
    shutdown.cancel();
    runner.await.unwrap().unwrap();
    // Committed: the group's next message on the key is a new one. One key on one topic keeps
    // its order, so a sentinel published now shows what came before it.
    log.publish(&event("t", "k1", 2)).await.unwrap();
    let mut subscription = log.subscribe("g", &topics).await.unwrap();
    assert_eq!(
        next(&mut subscription)
            .await
            .message
            .header(HEADER_EVENT_ID),
        Some("2")
    );
    log.publish(&event("t.dlq", "k1", 3)).await.unwrap();
    let mut dead = log
        .subscribe("dlq-reader", &["t.dlq".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        next(&mut dead).await.message.header(HEADER_EVENT_ID),
        Some("3"),
        "nothing dead-lettered before the sentinel"
    );
}

/// Poison is dead-lettered at once on every bus (the conformance suite); this is the other way
/// into the dead-letter topic, retries running out.
#[tokio::test]
async fn exhausted_messages_go_to_the_dead_letter_topic() {
    let dir = tempfile::tempdir().unwrap();
    let log: Arc<dyn EventBus> = Arc::new(LocalLog::open(dir.path()).await.unwrap());
    log.publish(&event("u", "exhausted", 2)).await.unwrap();
    let flaky = Arc::new(Flaky {
        failures: u32::MAX,
        attempts: AtomicU32::new(0),
        handled: Mutex::new(vec![]),
    });
    let shutdown = CancellationToken::new();
    let runner = tokio::spawn(run_consumer(
        log.clone(),
        "g".into(),
        vec!["u".to_owned()],
        flaky.clone(),
        fast_backoff(3),
        shutdown.clone(),
    ));

    let mut dead = log.subscribe("ops", &["u.dlq".to_owned()]).await.unwrap();
    let letter = next(&mut dead).await.message;
    assert_eq!(letter.key, "exhausted");
    assert_eq!(letter.header(HEADER_DLQ_ATTEMPTS), Some("3"));
    assert!(letter
        .header(HEADER_DLQ_ERROR)
        .unwrap()
        .contains("database down"));
    assert_eq!(
        letter.header(HEADER_EVENT_ID),
        Some("2"),
        "the original headers travel along"
    );
    shutdown.cancel();
    runner.await.unwrap().unwrap();
    assert_eq!(flaky.attempts.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_shutdown_during_retries_leaves_the_message_for_next_time() {
    let dir = tempfile::tempdir().unwrap();
    let log: Arc<dyn EventBus> = Arc::new(LocalLog::open(dir.path()).await.unwrap());
    log.publish(&event("t", "k", 1)).await.unwrap();
    let failing = Arc::new(Flaky {
        failures: u32::MAX,
        attempts: AtomicU32::new(0),
        handled: Mutex::new(vec![]),
    });
    let shutdown = CancellationToken::new();
    let slow = Backoff {
        base: Duration::from_secs(5),
        cap: Duration::from_secs(5),
        max_attempts: 100,
    };
    let runner = tokio::spawn(run_consumer(
        log.clone(),
        "g".into(),
        vec!["t".to_owned()],
        failing.clone(),
        slow,
        shutdown.clone(),
    ));
    wait_until(|| failing.attempts.load(Ordering::SeqCst) >= 1).await;
    shutdown.cancel();
    runner.await.unwrap().unwrap();

    let healthy = Arc::new(Flaky {
        failures: 0,
        attempts: AtomicU32::new(0),
        handled: Mutex::new(vec![]),
    });
    let shutdown = CancellationToken::new();
    let runner = tokio::spawn(run_consumer(
        log.clone(),
        "g".into(),
        vec!["t".to_owned()],
        healthy.clone(),
        fast_backoff(3),
        shutdown.clone(),
    ));
    wait_until(|| healthy.handled.lock().unwrap().as_slice() == ["k"]).await;
    shutdown.cancel();
    runner.await.unwrap().unwrap();
}
