//! The events lib on the embedded log (a real SQLite file) and the outbox on SQLite and
//! PostgreSQL: ordering, durability of events and offsets, at-least-once redelivery, retries and
//! dead letters.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use photoshare_db::{embed_migrations, Database, DatabaseLocation, MigrationFile};
use photoshare_events::*;
use tokio_util::sync::CancellationToken;

static OUTBOX_MIGRATIONS: &[MigrationFile] = embed_migrations!("migrations", 1 => "0001_outbox");

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
async fn the_local_log_keeps_events_and_offsets_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let topics = vec!["photo.uploaded".to_owned(), "photo.deleted".to_owned()];
    {
        let log = LocalLog::open(dir.path()).await.unwrap();
        log.publish(&event("photo.uploaded", "a", 1)).await.unwrap();
        log.publish(&event("photo.deleted", "b", 2)).await.unwrap();
        log.publish(&event("other.topic", "c", 3)).await.unwrap();
        log.publish(&event("photo.uploaded", "d", 4)).await.unwrap();

        let mut first = log.subscribe("workers", &topics).await.unwrap();
        let one = next(&mut first).await;
        let two = next(&mut first).await;
        assert_eq!(
            (one.message.key.as_str(), two.message.key.as_str()),
            ("a", "b"),
            "append order across topics"
        );
        assert_eq!(one.message.header(HEADER_EVENT_ID), Some("1"));
        first.commit(&one).await.unwrap();
        first.commit(&two).await.unwrap();
        let three = next(&mut first).await;
        assert_eq!(three.message.key, "d", "other topics are not delivered");
        // `three` is not committed: the "process" stops here.
    }
    let log = LocalLog::open(dir.path()).await.unwrap();
    let mut again = log.subscribe("workers", &topics).await.unwrap();
    let redelivered = next(&mut again).await;
    assert_eq!(
        redelivered.message.key, "d",
        "uncommitted messages come back after a restart"
    );
    assert_eq!(
        redelivered.message.envelope().unwrap().payload,
        b"payload 4"
    );

    let mut newcomer = log.subscribe("feed", &topics).await.unwrap();
    assert_eq!(
        next(&mut newcomer).await.message.key,
        "a",
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
        enqueue(&mut tx, id, &event("thing.created", &id.to_string(), id))
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
    assert_eq!(next(&mut subscription).await.message.key, "1");
    assert_eq!(
        next(&mut subscription).await.message.key,
        "3",
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

/// Fails the first `failures` attempts per message, transiently or as poison.
struct Flaky {
    failures: u32,
    poison: bool,
    attempts: AtomicU32,
    handled: Mutex<Vec<String>>,
}

#[async_trait]
impl Handler for Flaky {
    async fn handle(&self, message: &Message) -> Result<(), HandlerError> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        if attempt <= self.failures {
            return Err(if self.poison {
                HandlerError::Poison("cannot decode".into())
            } else {
                HandlerError::Transient("database down".into())
            });
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
        poison: false,
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
    // Committed: a restarted consumer of the group has nothing left.
    let mut subscription = log.subscribe("g", &topics).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(400), subscription.next())
            .await
            .is_err()
    );
    let mut dead = log
        .subscribe("dlq-reader", &["t.dlq".to_owned()])
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(400), dead.next())
            .await
            .is_err(),
        "nothing dead-lettered"
    );
}

#[tokio::test]
async fn poison_and_exhausted_messages_go_to_the_dead_letter_topic() {
    let dir = tempfile::tempdir().unwrap();
    let log: Arc<dyn EventBus> = Arc::new(LocalLog::open(dir.path()).await.unwrap());
    log.publish(&event("t", "poison", 1)).await.unwrap();
    log.publish(&event("u", "exhausted", 2)).await.unwrap();
    let poison = Arc::new(Flaky {
        failures: u32::MAX,
        poison: true,
        attempts: AtomicU32::new(0),
        handled: Mutex::new(vec![]),
    });
    let shutdown = CancellationToken::new();
    let runner = tokio::spawn(run_consumer(
        log.clone(),
        "g".into(),
        vec!["t".to_owned()],
        poison.clone(),
        fast_backoff(5),
        shutdown.clone(),
    ));
    let flaky = Arc::new(Flaky {
        failures: u32::MAX,
        poison: false,
        attempts: AtomicU32::new(0),
        handled: Mutex::new(vec![]),
    });
    let runner2 = tokio::spawn(run_consumer(
        log.clone(),
        "g".into(),
        vec!["u".to_owned()],
        flaky.clone(),
        fast_backoff(3),
        shutdown.clone(),
    ));

    let mut dead = log
        .subscribe("ops", &["t.dlq".to_owned(), "u.dlq".to_owned()])
        .await
        .unwrap();
    let first = next(&mut dead).await;
    let second = next(&mut dead).await;
    let mut letters = [first.message, second.message];
    letters.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(letters[0].key, "exhausted");
    assert_eq!(letters[0].header(HEADER_DLQ_ATTEMPTS), Some("3"));
    assert!(letters[0]
        .header(HEADER_DLQ_ERROR)
        .unwrap()
        .contains("database down"));
    assert_eq!(letters[1].key, "poison");
    assert_eq!(
        letters[1].header(HEADER_DLQ_ATTEMPTS),
        Some("1"),
        "poison is not retried"
    );
    assert_eq!(
        letters[1].header(HEADER_EVENT_ID),
        Some("1"),
        "the original headers travel along"
    );
    assert_eq!(poison.attempts.load(Ordering::SeqCst), 1);
    shutdown.cancel();
    runner.await.unwrap().unwrap();
    runner2.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_shutdown_during_retries_leaves_the_message_for_next_time() {
    let dir = tempfile::tempdir().unwrap();
    let log: Arc<dyn EventBus> = Arc::new(LocalLog::open(dir.path()).await.unwrap());
    log.publish(&event("t", "k", 1)).await.unwrap();
    let failing = Arc::new(Flaky {
        failures: u32::MAX,
        poison: false,
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
        poison: false,
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
