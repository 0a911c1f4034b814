//! The graph service over real gRPC, on SQLite and PostgreSQL: the follow / request / approve /
//! deny / unfollow state machine with its error codes, the events that reach the bus, paging,
//! counters under concurrent follows and unfollows, and streaming 100 000 followers.
//!
//! These tests only call the service (and, to insert 100 000 edges quickly, its own store); they
//! must not write SQL of their own.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use photoshare_config::Config;
use photoshare_events::{EventBus, LocalLog, Subscription};
use photoshare_graph::store::{ImportedFollow, Store};
use photoshare_ids::{IdGenerator, WorkerId};
use photoshare_proto::common::v1::PageRequest;
use photoshare_proto::events::v1 as events;
use photoshare_proto::graph::v1::graph_client::GraphClient;
use photoshare_proto::graph::v1::{self as pb, FollowState};
use photoshare_proto::prost::Message as _;
use photoshare_proto::{topics, ErrorCode};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

struct Running {
    client: GraphClient<Channel>,
    bus: LocalLog,
    config: Config,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), photoshare_runtime::RuntimeError>>,
    _data_dir: tempfile::TempDir,
}

impl Running {
    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

async fn start(postgres: bool) -> Running {
    let (config, data_dir) = photoshare_test_support::service_config(postgres).await;
    let bus = LocalLog::open(data_dir.path()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let shared_bus: Arc<dyn EventBus> = Arc::new(bus.clone());
    let task = tokio::spawn(photoshare_runtime::serve(
        &photoshare_graph::SPEC,
        listener,
        config.clone(),
        photoshare_runtime::SharedBackends::with_bus(shared_bus),
        shutdown.clone(),
    ));
    let channel = loop {
        if let Ok(channel) = Channel::from_shared(url.clone()).unwrap().connect().await {
            break channel;
        }
        assert!(
            !task.is_finished(),
            "the graph service stopped during start-up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The port accepts connections before the service has migrated its database; the first
    // answered call says it has (the stream test opens the same database next).
    let mut client = GraphClient::new(channel);
    client
        .list_followers(list_request(1, "", 1))
        .await
        .expect("the graph service answers");
    Running {
        client,
        bus,
        config,
        shutdown,
        task,
        _data_dir: data_dir,
    }
}

async fn follow(
    client: &mut GraphClient<Channel>,
    follower: u64,
    followee: u64,
    private: bool,
) -> FollowState {
    let response = client
        .follow(pb::FollowRequest {
            follower_id: follower,
            followee_id: followee,
            followee_is_private: private,
        })
        .await
        .unwrap()
        .into_inner();
    FollowState::try_from(response.state).unwrap()
}

async fn unfollow(client: &mut GraphClient<Channel>, follower: u64, followee: u64) {
    client
        .unfollow(pb::UnfollowRequest {
            follower_id: follower,
            followee_id: followee,
        })
        .await
        .unwrap();
}

fn decision(owner: u64, requester: u64) -> pb::RequestDecision {
    pb::RequestDecision {
        owner_id: owner,
        requester_id: requester,
    }
}

async fn relationships(
    client: &mut GraphClient<Channel>,
    viewer: u64,
    users: &[u64],
) -> Vec<pb::Relationship> {
    client
        .batch_relationships(pb::BatchRelationshipsRequest {
            viewer_id: viewer,
            user_ids: users.to_vec(),
        })
        .await
        .unwrap()
        .into_inner()
        .relationships
}

async fn relationship(
    client: &mut GraphClient<Channel>,
    viewer: u64,
    user: u64,
) -> pb::Relationship {
    relationships(client, viewer, &[user]).await.remove(0)
}

fn list_request(user: u64, cursor: &str, limit: u32) -> pb::ListRequest {
    pb::ListRequest {
        user_id: user,
        page: Some(PageRequest {
            cursor: cursor.to_owned(),
            limit,
        }),
    }
}

#[derive(Clone, Copy)]
enum Which {
    Followers,
    Following,
    Requests,
}

/// Every page of a list, as pages of user ids.
async fn pages(
    client: &mut GraphClient<Channel>,
    which: Which,
    user: u64,
    limit: u32,
) -> Vec<Vec<u64>> {
    let mut pages = Vec::new();
    let mut cursor = String::new();
    loop {
        let request = list_request(user, &cursor, limit);
        let page = match which {
            Which::Followers => client.list_followers(request).await,
            Which::Following => client.list_following(request).await,
            Which::Requests => client.list_follow_requests(request).await,
        }
        .unwrap()
        .into_inner();
        pages.push(page.user_ids);
        cursor = page.page.unwrap().next_cursor;
        if cursor.is_empty() {
            return pages;
        }
        assert!(pages.len() < 10_000, "the cursor never ends");
    }
}

async fn all(client: &mut GraphClient<Channel>, which: Which, user: u64) -> Vec<u64> {
    pages(client, which, user, 50).await.concat()
}

fn code(status: tonic::Status) -> ErrorCode {
    ErrorCode::from_status(&status)
}

const ANN: u64 = 1001;
const BOB: u64 = 1002;
const CAT: u64 = 1003;
const DAN: u64 = 1004;

async fn state_machine(postgres: bool) {
    let running = start(postgres).await;
    let client = &mut running.client.clone();

    // Nobody follows themselves; missing ids are invalid.
    let myself = client
        .follow(pb::FollowRequest {
            follower_id: ANN,
            followee_id: ANN,
            followee_is_private: false,
        })
        .await
        .unwrap_err();
    assert_eq!(code(myself), ErrorCode::CannotFollowSelf);
    let nobody = client
        .follow(pb::FollowRequest {
            follower_id: 0,
            followee_id: ANN,
            followee_is_private: false,
        })
        .await
        .unwrap_err();
    assert_eq!(code(nobody), ErrorCode::ValidationFailed);

    // A public account: following at once, idempotently.
    assert_eq!(
        follow(client, ANN, BOB, false).await,
        FollowState::Following
    );
    assert_eq!(
        follow(client, ANN, BOB, false).await,
        FollowState::Following
    );
    let ann_sees_bob = relationship(client, ANN, BOB).await;
    assert!(ann_sees_bob.following && !ann_sees_bob.followed_by && !ann_sees_bob.requested);
    assert_eq!(
        (ann_sees_bob.followers_count, ann_sees_bob.following_count),
        (1, 0)
    );
    let bob_sees_ann = relationship(client, BOB, ANN).await;
    assert!(!bob_sees_ann.following && bob_sees_ann.followed_by);
    assert_eq!(
        (bob_sees_ann.followers_count, bob_sees_ann.following_count),
        (0, 1)
    );
    assert_eq!(all(client, Which::Followers, BOB).await, [ANN]);
    assert_eq!(all(client, Which::Following, ANN).await, [BOB]);

    // A private account: a pending request, idempotently, and no count yet.
    assert_eq!(follow(client, ANN, CAT, true).await, FollowState::Requested);
    assert_eq!(follow(client, ANN, CAT, true).await, FollowState::Requested);
    let ann_sees_cat = relationship(client, ANN, CAT).await;
    assert!(ann_sees_cat.requested && !ann_sees_cat.following);
    assert_eq!(ann_sees_cat.followers_count, 0);
    assert_eq!(all(client, Which::Requests, CAT).await, [ANN]);
    assert!(all(client, Which::Followers, CAT).await.is_empty());

    // Approved: the request becomes a follow, once.
    client.approve_request(decision(CAT, ANN)).await.unwrap();
    let again = client
        .approve_request(decision(CAT, ANN))
        .await
        .unwrap_err();
    assert_eq!(code(again), ErrorCode::NotFound);
    let ann_sees_cat = relationship(client, ANN, CAT).await;
    assert!(ann_sees_cat.following && !ann_sees_cat.requested);
    assert_eq!(ann_sees_cat.followers_count, 1);
    assert!(all(client, Which::Requests, CAT).await.is_empty());
    assert_eq!(all(client, Which::Followers, CAT).await, [ANN]);
    // Asking again while following: still following, no new request.
    assert_eq!(follow(client, ANN, CAT, true).await, FollowState::Following);
    assert!(all(client, Which::Requests, CAT).await.is_empty());
    assert_eq!(relationship(client, BOB, ANN).await.following_count, 2);

    // Denied: the request goes, once; nothing else changes.
    assert_eq!(follow(client, DAN, CAT, true).await, FollowState::Requested);
    client.deny_request(decision(CAT, DAN)).await.unwrap();
    let again = client.deny_request(decision(CAT, DAN)).await.unwrap_err();
    assert_eq!(code(again), ErrorCode::NotFound);
    let dan_sees_cat = relationship(client, DAN, CAT).await;
    assert!(!dan_sees_cat.following && !dan_sees_cat.requested);
    assert_eq!(dan_sees_cat.followers_count, 1);
    // Nobody asked: both decisions are NotFound.
    for missing in [decision(BOB, DAN), decision(DAN, DAN)] {
        let approve = client.approve_request(missing).await.unwrap_err();
        assert_eq!(code(approve), ErrorCode::NotFound);
        let deny = client.deny_request(missing).await.unwrap_err();
        assert_eq!(code(deny), ErrorCode::NotFound);
    }

    // Unfollow withdraws a pending request.
    assert_eq!(follow(client, DAN, CAT, true).await, FollowState::Requested);
    unfollow(client, DAN, CAT).await;
    assert!(!relationship(client, DAN, CAT).await.requested);
    let withdrawn = client
        .approve_request(decision(CAT, DAN))
        .await
        .unwrap_err();
    assert_eq!(code(withdrawn), ErrorCode::NotFound);

    // Unfollow ends a follow and uncounts it, idempotently.
    unfollow(client, ANN, BOB).await;
    unfollow(client, ANN, BOB).await;
    unfollow(client, ANN, ANN).await;
    let ann_sees_bob = relationship(client, ANN, BOB).await;
    assert!(!ann_sees_bob.following);
    assert_eq!(ann_sees_bob.followers_count, 0);
    assert!(all(client, Which::Followers, BOB).await.is_empty());

    // Following back.
    assert_eq!(
        follow(client, BOB, ANN, false).await,
        FollowState::Following
    );
    let batch = relationships(client, ANN, &[BOB, CAT, DAN, 999_999, BOB]).await;
    let summary: Vec<(u64, bool, bool, bool, u64, u64)> = batch
        .iter()
        .map(|r| {
            (
                r.user_id,
                r.following,
                r.followed_by,
                r.requested,
                r.followers_count,
                r.following_count,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (BOB, false, true, false, 0, 1),
            (CAT, true, false, false, 1, 0),
            (DAN, false, false, false, 0, 0),
            (999_999, false, false, false, 0, 0),
            (BOB, false, true, false, 0, 1),
        ],
        "one answer per asked id, in the asked order"
    );
    assert!(relationships(client, ANN, &[]).await.is_empty());

    // Limits and cursors.
    let too_many = client
        .batch_relationships(pb::BatchRelationshipsRequest {
            viewer_id: ANN,
            user_ids: (1..=201).collect(),
        })
        .await
        .unwrap_err();
    assert_eq!(code(too_many), ErrorCode::ValidationFailed);
    assert_eq!(
        relationships(client, ANN, &(1..=200).collect::<Vec<_>>())
            .await
            .len(),
        200
    );
    let too_long = client
        .list_followers(list_request(CAT, "", 51))
        .await
        .unwrap_err();
    assert_eq!(code(too_long), ErrorCode::ValidationFailed);
    for cursor in ["bogus", "-1", "0", "18446744073709551615"] {
        let bad = client
            .list_following(list_request(ANN, cursor, 5))
            .await
            .unwrap_err();
        assert_eq!(code(bad), ErrorCode::ValidationFailed, "{cursor}");
    }
    let default_page = client
        .list_followers(pb::ListRequest {
            user_id: CAT,
            page: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(default_page.user_ids, [ANN]);
    assert_eq!(default_page.page.unwrap().next_cursor, "");

    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_machine_on_sqlite() {
    state_machine(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_machine_on_postgres() {
    state_machine(true).await;
}

/// The next event on the subscription, as (topic, key, follower, followee).
async fn next_event(subscription: &mut Box<dyn Subscription>) -> (String, String, u64, u64) {
    let delivery = tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .expect("an event within 10 s")
        .unwrap();
    let message = delivery.message;
    let envelope = message.envelope().unwrap();
    assert_eq!(envelope.r#type, message.topic);
    let (follower, followee) = if message.topic == topics::GRAPH_FOLLOWED {
        let payload = events::Followed::decode(envelope.payload.as_slice()).unwrap();
        (payload.follower_id, payload.followee_id)
    } else {
        assert_eq!(message.topic, topics::GRAPH_UNFOLLOWED);
        let payload = events::Unfollowed::decode(envelope.payload.as_slice()).unwrap();
        (payload.follower_id, payload.followee_id)
    };
    (message.topic, message.key, follower, followee)
}

async fn events_reach_the_bus(postgres: bool) {
    let running = start(postgres).await;
    let client = &mut running.client.clone();
    let mut subscription = running
        .bus
        .subscribe(
            "graph-test",
            &[
                topics::GRAPH_FOLLOWED.to_owned(),
                topics::GRAPH_UNFOLLOWED.to_owned(),
            ],
        )
        .await
        .unwrap();

    follow(client, ANN, BOB, false).await;
    follow(client, ANN, BOB, false).await; // no second event
    follow(client, CAT, ANN, true).await; // a request is no event
    client.approve_request(decision(ANN, CAT)).await.unwrap();
    follow(client, DAN, ANN, true).await;
    client.deny_request(decision(ANN, DAN)).await.unwrap();
    follow(client, DAN, ANN, true).await;
    unfollow(client, DAN, ANN).await; // withdrawing a request is no event
    unfollow(client, ANN, BOB).await;
    unfollow(client, ANN, BOB).await; // no second event

    let followed = topics::GRAPH_FOLLOWED.to_owned();
    let unfollowed = topics::GRAPH_UNFOLLOWED.to_owned();
    let mut expected = vec![
        (followed.clone(), ANN.to_string(), ANN, BOB),
        (followed, CAT.to_string(), CAT, ANN),
        (unfollowed, ANN.to_string(), ANN, BOB),
    ];
    let mut received = Vec::new();
    for _ in 0..expected.len() {
        received.push(next_event(&mut subscription).await);
    }
    // Three different topic-and-key pairs: the bus orders none of them against another.
    expected.sort();
    received.sort();
    assert_eq!(received, expected);
    let extra = tokio::time::timeout(Duration::from_millis(1500), subscription.next()).await;
    assert!(
        extra.is_err(),
        "an unexpected event: {:?}",
        extra.map(|delivery| delivery.map(|d| d.message.topic))
    );

    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_the_bus_on_sqlite() {
    events_reach_the_bus(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_the_bus_on_postgres() {
    events_reach_the_bus(true).await;
}

async fn pages_are_newest_first_without_gaps(postgres: bool) {
    let running = start(postgres).await;
    let client = &mut running.client.clone();
    let star = 7;
    let fans: Vec<u64> = (0..27).map(|n| 50_000 + n * 13).collect();
    for fan in &fans {
        follow(client, *fan, star, false).await;
    }
    // Each also asks to follow a private account; its requests page the same way.
    for fan in &fans {
        follow(client, *fan, star + 1, true).await;
    }

    let newest_first: Vec<u64> = fans.iter().rev().copied().collect();
    for which in [Which::Followers, Which::Requests] {
        let user = match which {
            Which::Followers => star,
            _ => star + 1,
        };
        let pages = pages(client, which, user, 7).await;
        let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
        assert_eq!(sizes, [7, 7, 7, 6]);
        let read = pages.concat();
        assert_eq!(read, newest_first, "every follower once, newest first");
        let distinct: HashSet<u64> = read.iter().copied().collect();
        assert_eq!(distinct.len(), 27);
    }
    // A page that ends exactly at the last item has no next page after the following one.
    let exact = pages(client, Which::Followers, star, 27).await;
    assert_eq!(exact.concat(), newest_first);
    assert_eq!(exact.len(), 1);
    assert_eq!(all(client, Which::Following, fans[3]).await, [star]);
    assert_eq!(relationship(client, 0, star).await.followers_count, 27);

    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_newest_first_without_gaps_on_sqlite() {
    pages_are_newest_first_without_gaps(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_newest_first_without_gaps_on_postgres() {
    pages_are_newest_first_without_gaps(true).await;
}

/// A fixed-seed linear congruential generator (Knuth's MMIX constants): the same "random"
/// calls in every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

async fn counters_match_edges_under_concurrency(postgres: bool) {
    let running = start(postgres).await;
    let users = [ANN, BOB, CAT, DAN];
    let mut random = Lcg(0x5eed_2025);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let follower = (random.next() % 4) as usize;
        let followee = (follower + 1 + (random.next() % 3) as usize) % 4;
        let (follower, followee) = (users[follower], users[followee]);
        let follows = random.next() & 1 == 0;
        let mut client = running.client.clone();
        calls.spawn(async move {
            if follows {
                follow(&mut client, follower, followee, false).await;
            } else {
                unfollow(&mut client, follower, followee).await;
            }
        });
    }
    while let Some(call) = calls.join_next().await {
        call.unwrap();
    }

    let client = &mut running.client.clone();
    let mut followers = std::collections::HashMap::new();
    let mut following = std::collections::HashMap::new();
    for user in users {
        followers.insert(user, all(client, Which::Followers, user).await);
        following.insert(user, all(client, Which::Following, user).await);
    }
    // Both sides of every edge agree, and no list repeats a user.
    let by_followee: BTreeSet<(u64, u64)> = users
        .iter()
        .flat_map(|user| followers[user].iter().map(|f| (*f, *user)))
        .collect();
    let by_follower: BTreeSet<(u64, u64)> = users
        .iter()
        .flat_map(|user| following[user].iter().map(|f| (*user, *f)))
        .collect();
    assert_eq!(by_followee, by_follower);
    let listed: usize = users.iter().map(|user| followers[user].len()).sum();
    assert_eq!(listed, by_followee.len(), "a follower is listed twice");

    // Every viewer sees every user's counts equal to the real edges, and the right flags.
    for viewer in users {
        for relation in relationships(client, viewer, &users).await {
            let them = relation.user_id;
            assert_eq!(
                relation.followers_count,
                followers[&them].len() as u64,
                "followers_count of {them}"
            );
            assert_eq!(
                relation.following_count,
                following[&them].len() as u64,
                "following_count of {them}"
            );
            assert_eq!(relation.following, by_followee.contains(&(viewer, them)));
            assert_eq!(relation.followed_by, by_followee.contains(&(them, viewer)));
            assert!(!relation.requested);
        }
    }
    println!(
        "{}: {} edges left after 200 concurrent calls",
        if postgres { "PostgreSQL" } else { "SQLite" },
        by_followee.len()
    );

    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counters_match_edges_under_concurrency_on_sqlite() {
    counters_match_edges_under_concurrency(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counters_match_edges_under_concurrency_on_postgres() {
    counters_match_edges_under_concurrency(true).await;
}

async fn stream(
    client: &mut GraphClient<Channel>,
    user: u64,
    after: u64,
    batch_size: u32,
) -> Vec<Vec<u64>> {
    let mut stream = client
        .stream_followers(pb::StreamFollowersRequest {
            user_id: user,
            after_user_id: after,
            batch_size,
        })
        .await
        .unwrap()
        .into_inner();
    let mut batches = Vec::new();
    while let Some(batch) = stream.message().await.unwrap() {
        batches.push(batch.user_ids);
    }
    batches
}

async fn streams_100_000_followers(postgres: bool) {
    let running = start(postgres).await;
    let backend = if postgres { "PostgreSQL" } else { "SQLite" };
    let star = 42;
    const FOLLOWERS: usize = 100_000;
    // Follower ids not in insertion order, so that the stream's order is its own work.
    let mut followers: Vec<u64> = (0..FOLLOWERS as u64)
        .map(|n| 1_000_000 + (n * 7_919) % FOLLOWERS as u64 * 3)
        .collect();
    let ids = IdGenerator::new(WorkerId::new(8191).unwrap());
    let edges: Vec<ImportedFollow> = followers
        .iter()
        .map(|follower| ImportedFollow {
            id: ids.next_id(),
            follower_id: *follower,
            followee_id: star,
        })
        .collect();
    let store = Store::new(
        photoshare_runtime::open_database(&photoshare_graph::SPEC, &running.config)
            .await
            .unwrap()
            .unwrap(),
    );
    let began = Instant::now();
    let inserted = store.import_follows(&edges, 1).await.unwrap();
    println!(
        "{backend}: imported {inserted} follows in {:?}",
        began.elapsed()
    );
    assert_eq!(inserted, FOLLOWERS as u64);
    // Importing again inserts and counts nothing.
    assert_eq!(store.import_follows(&edges[..10], 1).await.unwrap(), 0);
    store.database().close().await;
    followers.sort_unstable();

    let client = &mut running.client.clone();
    let counts = relationships(client, followers[0], &[star, followers[0]]).await;
    assert_eq!(counts[0].followers_count, FOLLOWERS as u64);
    assert!(counts[0].following, "the viewer follows the star");
    assert_eq!(counts[1].following_count, 1);

    let began = Instant::now();
    let batches = stream(client, star, 0, 0).await;
    let elapsed = began.elapsed();
    println!(
        "{backend}: streamed {FOLLOWERS} followers in {} batches in {elapsed:?}",
        batches.len()
    );
    assert_eq!(batches.len(), 100);
    assert!(batches.iter().all(|batch| batch.len() == 1000));
    assert_eq!(
        batches.concat(),
        followers,
        "every follower once, ascending"
    );

    // Resumed from the middle, in batches that do not divide the rest.
    let middle = followers[FOLLOWERS / 2 - 1];
    let began = Instant::now();
    let rest = stream(client, star, middle, 777).await;
    println!(
        "{backend}: resumed stream of {} followers in {:?}",
        FOLLOWERS / 2,
        began.elapsed()
    );
    assert!(rest[..rest.len() - 1]
        .iter()
        .all(|batch| batch.len() == 777));
    assert_eq!(rest.concat(), followers[FOLLOWERS / 2..]);
    // Past the end, and a user without followers: an empty stream.
    assert!(stream(client, star, *followers.last().unwrap(), 0)
        .await
        .is_empty());
    assert!(stream(client, star + 1, 0, 0).await.is_empty());
    let too_big = client
        .stream_followers(pb::StreamFollowersRequest {
            user_id: star,
            after_user_id: 0,
            batch_size: 10_001,
        })
        .await
        .unwrap_err();
    assert_eq!(code(too_big), ErrorCode::ValidationFailed);

    // The imported edges are ordinary edges: listed and unfollowed like any other.
    let newest = client
        .list_followers(list_request(star, "", 3))
        .await
        .unwrap()
        .into_inner();
    let newest_expected: Vec<u64> = edges.iter().rev().take(3).map(|e| e.follower_id).collect();
    assert_eq!(newest.user_ids, newest_expected);
    unfollow(client, followers[0], star).await;
    assert_eq!(
        relationship(client, 0, star).await.followers_count,
        FOLLOWERS as u64 - 1
    );
    assert_eq!(stream(client, star, 0, 0).await.concat(), followers[1..]);

    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_100_000_followers_on_sqlite() {
    streams_100_000_followers(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_100_000_followers_on_postgres() {
    streams_100_000_followers(true).await;
}

async fn following_ids(client: &mut GraphClient<Channel>, user: u64, above: u64) -> Vec<u64> {
    let mut ids = client
        .following_ids(pb::FollowingIdsRequest {
            user_id: user,
            more_followers_than: above,
        })
        .await
        .unwrap()
        .into_inner()
        .user_ids;
    ids.sort_unstable();
    ids
}

/// The feed's view of the graph: whom a reader follows, and which of those have more followers
/// than a threshold. Pending requests are not follows.
async fn lists_whom_a_user_follows(postgres: bool) {
    let running = start(postgres).await;
    let client = &mut running.client.clone();
    let reader = 10;
    // 20 has three followers, 30 two, 40 one; 50 is private and only asked.
    for (follower, followee) in [(10, 20), (11, 20), (12, 20), (10, 30), (11, 30), (10, 40)] {
        assert_eq!(
            follow(client, follower, followee, false).await,
            FollowState::Following
        );
    }
    assert_eq!(
        follow(client, reader, 50, true).await,
        FollowState::Requested
    );
    assert_eq!(following_ids(client, reader, 0).await, vec![20, 30, 40]);
    assert_eq!(following_ids(client, reader, 1).await, vec![20, 30]);
    assert_eq!(following_ids(client, reader, 2).await, vec![20]);
    assert!(following_ids(client, reader, 3).await.is_empty());
    assert!(following_ids(client, 99, 0).await.is_empty());

    client.approve_request(decision(50, reader)).await.unwrap();
    unfollow(client, reader, 20).await;
    assert_eq!(following_ids(client, reader, 0).await, vec![30, 40, 50]);
    let invalid = client
        .following_ids(pb::FollowingIdsRequest {
            user_id: 0,
            more_followers_than: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(code(invalid), ErrorCode::ValidationFailed);
    running.stop().await;
}

#[tokio::test]
async fn lists_whom_a_user_follows_on_sqlite() {
    lists_whom_a_user_follows(false).await;
}

#[tokio::test]
async fn lists_whom_a_user_follows_on_postgres() {
    lists_whom_a_user_follows(true).await;
}
