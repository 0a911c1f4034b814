//! The behaviour every [`EventBus`] must show, as one suite: `embedded.rs` runs it against the
//! local log (a real SQLite file) and `kafka.rs` against Kafka (a real tansu broker), so the bus
//! of `photoshare dev` and the production one cannot drift apart. It checks what the services
//! rely on and nothing more: order holds per key within a topic, never across topics or keys.
//!
//! Both buses live in this crate, so the suite is a test module; the feed stores' suites are a
//! `conformance` feature because their implementations live in other crates. Each check uses
//! its own topics and groups, so all of them share one bus.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use photoshare_events::*;
use photoshare_proto::events::v1::PhotoPublished;
use photoshare_proto::Event;
use tokio_util::sync::CancellationToken;

/// How long a delivery may take before the check fails instead of hanging. A bound, not a
/// measurement: Kafka needs seconds to balance a new group.
const DELIVERY_BOUND: Duration = Duration::from_secs(30);

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// Runs every check on `bus`.
pub async fn run_bus_suite(bus: Arc<dyn EventBus>) {
    records_arrive_intact(&*bus).await;
    one_key_keeps_its_order_within_a_topic(&*bus).await;
    a_resubscribed_group_resumes_after_its_last_commit(&*bus).await;
    every_group_gets_every_message(&*bus).await;
    a_new_group_starts_from_the_beginning(&*bus).await;
    dead_letters_carry_the_error_and_are_committed(bus.clone()).await;
}

/// Record number `n` on `topic` about `key`: a value that is not text and headers that are.
fn record(topic: &str, key: &str, n: u64) -> Message {
    Message {
        topic: topic.to_owned(),
        key: key.to_owned(),
        value: [&[0x00, 0xff, 0x80][..], &n.to_be_bytes()].concat(),
        headers: vec![
            (HEADER_EVENT_ID.to_owned(), n.to_string()),
            ("traceparent".to_owned(), TRACEPARENT.to_owned()),
            (
                "note".to_owned(),
                "ünïcode, \"quotes\", [brackets]".to_owned(),
            ),
        ],
    }
}

/// Records `1..=count` on `topic`, spread over `keys` keys.
fn records(topic: &str, count: u64, keys: u64) -> Vec<Message> {
    (1..=count)
        .map(|n| record(topic, &format!("key-{}", n % keys), n))
        .collect()
}

/// The `n` of a [`record`].
fn number(message: &Message) -> u64 {
    message
        .header(HEADER_EVENT_ID)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a record of this suite: {message:?}"))
}

/// The numbers of `messages` per topic and key, in the order they came.
fn per_key(messages: &[Message]) -> BTreeMap<(String, String), Vec<u64>> {
    let mut sequences: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for message in messages {
        sequences
            .entry((message.topic.clone(), message.key.clone()))
            .or_default()
            .push(number(message));
    }
    sequences
}

async fn subscribe(bus: &dyn EventBus, group: &str, topics: &[&str]) -> Box<dyn Subscription> {
    let topics: Vec<String> = topics.iter().map(|topic| topic.to_string()).collect();
    bus.subscribe(group, &topics).await.unwrap()
}

async fn publish_all(bus: &dyn EventBus, messages: &[Message]) {
    for message in messages {
        bus.publish(message).await.unwrap();
    }
}

async fn next(subscription: &mut Box<dyn Subscription>) -> Delivery {
    tokio::time::timeout(DELIVERY_BOUND, subscription.next())
        .await
        .unwrap_or_else(|_| panic!("no delivery within {DELIVERY_BOUND:?}"))
        .unwrap()
}

/// The next `count` messages, each committed once received.
async fn take_committed(subscription: &mut Box<dyn Subscription>, count: usize) -> Vec<Message> {
    let mut messages = Vec::with_capacity(count);
    for _ in 0..count {
        let delivery = next(subscription).await;
        subscription.commit(&delivery).await.unwrap();
        messages.push(delivery.message);
    }
    messages
}

/// Takes as many messages as `expected` holds, committing each, and checks that they are
/// `expected` in publication order per topic and key (the only order a bus promises).
async fn expect_per_key(
    subscription: &mut Box<dyn Subscription>,
    expected: &[Message],
    what: &str,
) {
    let received = take_committed(subscription, expected.len()).await;
    assert_eq!(per_key(&received), per_key(expected), "{what}");
}

async fn records_arrive_intact(bus: &dyn EventBus) {
    let raw_topic = "conformance.intact";
    let typed = Event::PhotoPublished(PhotoPublished {
        photo_id: 5,
        author_id: 6,
        created_at_ms: 7,
    });
    let typed_topic = typed.topic().as_str();
    let mut subscription = subscribe(bus, "intact", &[raw_topic, typed_topic]).await;
    let raw = record(raw_topic, "key-1", 1);
    let mut event = Message::from_event(&typed, 2, 1_000);
    event
        .headers
        .push(("traceparent".to_owned(), TRACEPARENT.to_owned()));
    publish_all(bus, &[raw.clone(), event.clone()]).await;

    let received = take_committed(&mut subscription, 2).await;
    // Two topics: nothing says which comes first.
    let on = |topic: &str| {
        received
            .iter()
            .find(|message| message.topic == topic)
            .unwrap_or_else(|| panic!("nothing on {topic}: {received:?}"))
    };
    let (got_raw, got_event) = (on(raw_topic), on(typed_topic));
    assert_eq!(
        *got_raw, raw,
        "topic, key, value and headers arrive as published"
    );
    assert_eq!(*got_event, event);
    assert_eq!(got_event.decode_event().unwrap(), typed);
    assert_eq!(got_event.key, "6", "photo.published is keyed by author");
}

async fn one_key_keeps_its_order_within_a_topic(bus: &dyn EventBus) {
    let topics = ["conformance.order.a", "conformance.order.b"];
    let mut sent = Vec::new();
    let mut n = 0;
    for _round in 0..4 {
        for key in ["k0", "k1", "k2"] {
            for topic in topics {
                n += 1;
                sent.push(record(topic, key, n));
            }
        }
    }
    publish_all(bus, &sent).await;
    let mut subscription = subscribe(bus, "order", &topics).await;
    expect_per_key(
        &mut subscription,
        &sent,
        "every record, in order per topic and key",
    )
    .await;
}

async fn a_resubscribed_group_resumes_after_its_last_commit(bus: &dyn EventBus) {
    let topic = "conformance.resume";
    let sent = records(topic, 6, 2);
    publish_all(bus, &sent).await;

    let mut committed = BTreeSet::new();
    {
        let mut first = subscribe(bus, "resume", &[topic]).await;
        for message in take_committed(&mut first, 2).await {
            committed.insert(number(&message));
        }
        // Delivered but never committed: the consumer "crashes" before handling it.
        let unhandled = next(&mut first).await;
        assert!(!committed.contains(&number(&unhandled.message)));
    }
    let mut second = subscribe(bus, "resume", &[topic]).await;
    let expected: Vec<Message> = sent
        .iter()
        .filter(|message| !committed.contains(&number(message)))
        .cloned()
        .collect();
    // Per key the order is promised, so a committed record delivered again would come first
    // on its key and break the comparison.
    let what = format!("the uncommitted come back, the committed ({committed:?}) do not");
    expect_per_key(&mut second, &expected, &what).await;
}

async fn every_group_gets_every_message(bus: &dyn EventBus) {
    let topic = "conformance.groups";
    let mut one = subscribe(bus, "groups-one", &[topic]).await;
    let mut two = subscribe(bus, "groups-two", &[topic]).await;
    let sent = records(topic, 6, 3);
    publish_all(bus, &sent).await;
    expect_per_key(&mut one, &sent, "everything, to the first group").await;
    expect_per_key(&mut two, &sent, "everything, to the second group").await;
}

async fn a_new_group_starts_from_the_beginning(bus: &dyn EventBus) {
    let topic = "conformance.newcomer";
    let sent = records(topic, 4, 2);
    publish_all(bus, &sent).await;
    let mut early = subscribe(bus, "newcomer-early", &[topic]).await;
    expect_per_key(&mut early, &sent, "everything, to the first group").await;
    let mut late = subscribe(bus, "newcomer-late", &[topic]).await;
    let what = "everything, to a group that comes later: others' commits do not move it";
    expect_per_key(&mut late, &sent, what).await;
}

/// Refuses every message as poison, counting the attempts.
struct Poisoned {
    attempts: AtomicU32,
}

#[async_trait]
impl Handler for Poisoned {
    async fn handle(&self, _message: &Message) -> Result<(), HandlerError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        Err(HandlerError::Poison("cannot decode the payload".into()))
    }
}

async fn dead_letters_carry_the_error_and_are_committed(bus: Arc<dyn EventBus>) {
    let topic = "conformance.poison";
    let poison = record(topic, "k", 1);
    bus.publish(&poison).await.unwrap();
    let handler = Arc::new(Poisoned {
        attempts: AtomicU32::new(0),
    });
    let shutdown = CancellationToken::new();
    let runner = tokio::spawn(run_consumer(
        bus.clone(),
        "poison".into(),
        vec![topic.to_owned()],
        handler.clone(),
        Backoff {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(20),
            max_attempts: 3,
        },
        shutdown.clone(),
    ));

    let mut dead = subscribe(&*bus, "ops", &[&dead_letter_topic(topic)]).await;
    let letter = next(&mut dead).await.message;
    assert_eq!(letter.topic, "conformance.poison.dlq");
    assert_eq!((&letter.key, &letter.value), (&poison.key, &poison.value));
    assert_eq!(
        letter.headers[..poison.headers.len()],
        poison.headers[..],
        "the original headers travel along"
    );
    assert!(letter
        .header(HEADER_DLQ_ERROR)
        .unwrap()
        .contains("cannot decode the payload"));
    assert_eq!(
        letter.header(HEADER_DLQ_ATTEMPTS),
        Some("1"),
        "poison is not retried"
    );
    shutdown.cancel();
    runner.await.unwrap().unwrap();
    assert_eq!(handler.attempts.load(Ordering::SeqCst), 1);

    // The dead-lettered record was committed: the group's next record on the key is a new one.
    let after = record(topic, "k", 2);
    bus.publish(&after).await.unwrap();
    let mut again = subscribe(&*bus, "poison", &[topic]).await;
    assert_eq!(next(&mut again).await.message, after);
}
