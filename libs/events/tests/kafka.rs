//! The Kafka adapter against a real Kafka-protocol broker (tansu): the bus conformance suite,
//! a consumer that closes while the broker dies, and the outbox relay riding out a broker outage.

mod conformance;

use std::sync::Arc;
use std::time::Duration;

use photoshare_db::{embed_migrations, Database, DatabaseLocation, MigrationFile};
use photoshare_events::*;
use photoshare_test_support::KafkaBroker;

static OUTBOX_MIGRATIONS: &[MigrationFile] = embed_migrations!(
    "migrations",
    1 => "0001_things",
    2 => shared(photoshare_events::OUTBOX_MIGRATION),
);

fn settings(broker: &KafkaBroker) -> KafkaSettings {
    KafkaSettings {
        session_timeout: Duration::from_secs(1),
        publish_timeout: Duration::from_secs(3),
        partitions: 3,
        ..KafkaSettings::new(broker.bootstrap())
    }
}

fn event(topic: &str, key: &str, id: u64) -> Message {
    let mut message = Message::event(topic, key, id, 1_000, format!("payload {id}").into_bytes());
    message.headers.push((
        "traceparent".into(),
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
    ));
    message
}

async fn next(subscription: &mut Box<dyn Subscription>) -> Delivery {
    tokio::time::timeout(Duration::from_secs(30), subscription.next())
        .await
        .expect("a message within 30 s")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_conforms() {
    let broker = KafkaBroker::start().await;
    let bus = KafkaBus::new(settings(&broker)).unwrap();
    conformance::run_bus_suite(Arc::new(bus)).await;
}

/// Sends `signal` (`-STOP`, `-CONT`) to the tansu process listening on `port`.
fn signal_broker(port: u16, signal: &str) {
    let listener = format!("listener-url tcp://127.0.0.1:{port} ");
    let found = std::process::Command::new("pgrep")
        .args(["-f", "--", &listener])
        .output()
        .expect("pgrep (procps) is installed");
    let pids = String::from_utf8_lossy(&found.stdout);
    let pid = pids.lines().next().expect("the broker's process");
    let status = std::process::Command::new("kill")
        .args([signal, pid])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_closes_without_waiting_for_a_hung_broker() {
    let broker = KafkaBroker::start().await;
    let bus = KafkaBus::new(settings(&broker)).unwrap();
    for id in 1..=5 {
        bus.publish(&event("photo.uploaded", &format!("photo-{id}"), id))
            .await
            .unwrap();
    }
    let mut subscription = bus
        .subscribe("workers", &["photo.uploaded".to_owned()])
        .await
        .unwrap();
    // Handled and committed three; two more are on their way when the broker hangs.
    for _ in 1..=3 {
        let delivery = next(&mut subscription).await;
        subscription.commit(&delivery).await.unwrap();
    }
    // A frozen broker keeps its connections open and answers nothing: librdkafka's close (commit
    // the stored offsets, leave the group) then waits for minutes, on whichever thread dropped
    // the subscription (a runtime thread, or the one shutting the runtime down). The drop runs
    // on a thread of its own here, so that a hang fails this test instead of hanging it.
    signal_broker(broker.port, "-STOP");
    let (dropped, was_dropped) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        drop(subscription);
        let _ = dropped.send(());
    });
    let returned = tokio::time::timeout(Duration::from_secs(30), was_dropped).await;
    signal_broker(broker.port, "-CONT");
    returned
        .expect("dropping a subscription returns at once (the bound only stops a hang)")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_relay_delivers_everything_once_the_broker_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let database = Database::open(&DatabaseLocation::Sqlite {
        path: dir.path().join("svc.db"),
    })
    .await
    .unwrap();
    database.migrate(OUTBOX_MIGRATIONS).await.unwrap();

    let broker = KafkaBroker::start().await;
    let port = broker.port;
    let bus = Arc::new(KafkaBus::new(settings(&broker)).unwrap());
    let port = {
        drop(broker);
        port
    };
    // The broker is down while the service keeps committing state changes with their events.
    for id in 1..=5_u64 {
        let mut tx = database.pool().begin().await.unwrap();
        enqueue(&mut tx, id, &event("photo.deleted", "author", id))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let relay = Relay::new(database.clone(), bus.clone());
    assert!(
        relay.relay_pending().await.is_err(),
        "publishing fails while the broker is down"
    );
    assert_eq!(
        relay.backlog().await.unwrap(),
        5,
        "nothing is lost or marked sent"
    );

    let _broker = KafkaBroker::start_on(port).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    let mut subscription = bus
        .subscribe("ops", &["photo.deleted".to_owned()])
        .await
        .unwrap();
    let mut ids = Vec::new();
    while ids.len() < 5 {
        let delivery = next(&mut subscription).await;
        ids.push(
            delivery
                .message
                .header(HEADER_EVENT_ID)
                .unwrap()
                .parse::<u64>()
                .unwrap(),
        );
        subscription.commit(&delivery).await.unwrap();
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    shutdown.cancel();
    relay_task.await.unwrap();
}
