//! The Kafka adapter against a real Kafka-protocol broker (tansu): headers and keys survive,
//! a restarted consumer loses nothing, and the outbox relay rides out a broker outage.

use std::sync::Arc;
use std::time::Duration;

use photoshare_db::{embed_migrations, Database, DatabaseLocation, MigrationFile};
use photoshare_events::*;
use photoshare_test_support::KafkaBroker;

static OUTBOX_MIGRATIONS: &[MigrationFile] = embed_migrations!("migrations", 1 => "0001_outbox");

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
async fn records_keep_their_key_value_and_headers() {
    let broker = KafkaBroker::start().await;
    let bus = KafkaBus::new(settings(&broker)).unwrap();
    let topic = "photo.uploaded".to_owned();
    for id in 1..=3 {
        bus.publish(&event(&topic, "same-key", id)).await.unwrap();
    }
    let mut subscription = bus
        .subscribe("workers", std::slice::from_ref(&topic))
        .await
        .unwrap();
    for id in 1..=3 {
        let delivery = next(&mut subscription).await;
        let message = &delivery.message;
        assert_eq!(message.key, "same-key");
        assert_eq!(
            message.header(HEADER_EVENT_ID),
            Some(id.to_string().as_str()),
            "one key keeps its order"
        );
        assert_eq!(message.header(HEADER_EVENT_TYPE), Some("photo.uploaded"));
        assert!(message
            .header("traceparent")
            .unwrap()
            .starts_with("00-0af7651916cd43dd"));
        assert_eq!(
            message.envelope().unwrap().payload,
            format!("payload {id}").into_bytes()
        );
        subscription.commit(&delivery).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_restarted_mid_stream_loses_nothing() {
    let broker = KafkaBroker::start().await;
    let bus = KafkaBus::new(settings(&broker)).unwrap();
    let topic = "photo.published".to_owned();
    for id in 1..=6 {
        bus.publish(&event(&topic, &format!("author-{}", id % 2), id))
            .await
            .unwrap();
    }
    let mut seen = std::collections::BTreeSet::new();
    {
        let mut first = bus
            .subscribe("feed", std::slice::from_ref(&topic))
            .await
            .unwrap();
        for _ in 0..2 {
            let delivery = next(&mut first).await;
            seen.insert(delivery.message.header(HEADER_EVENT_ID).unwrap().to_owned());
            first.commit(&delivery).await.unwrap();
        }
        // Read one more without committing, then "crash".
        next(&mut first).await;
    }
    let mut second = bus
        .subscribe("feed", std::slice::from_ref(&topic))
        .await
        .unwrap();
    while seen.len() < 6 {
        let delivery = next(&mut second).await;
        seen.insert(delivery.message.header(HEADER_EVENT_ID).unwrap().to_owned());
        second.commit(&delivery).await.unwrap();
    }
    let expected: std::collections::BTreeSet<String> =
        (1..=6).map(|id: u64| id.to_string()).collect();
    assert_eq!(seen, expected);
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
