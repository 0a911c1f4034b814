//! The Kafka adapter against a real Kafka-protocol broker (tansu): the bus conformance suite,
//! and the outbox relay riding out a broker outage.

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
