//! The engagement service over real gRPC, on SQLite and PostgreSQL: likes and their idempotency,
//! counts, comments and who may delete them, paging, the events on the bus, and counts that stay
//! true under concurrent likes and unlikes.
//!
//! These tests talk to the service only through its gRPC client and the event bus; they never
//! open its database.

use std::sync::Arc;
use std::time::Duration;

use photoshare_events::{EventBus, LocalLog, Subscription};
use photoshare_proto::common::v1::PageRequest;
use photoshare_proto::engagement::v1 as pb;
use photoshare_proto::engagement::v1::engagement_client::EngagementClient;
use photoshare_proto::events::v1 as events;
use photoshare_proto::prost::Message as _;
use photoshare_proto::{topics, ErrorCode};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

type Client = EngagementClient<Channel>;

const ANN: u64 = 1001;
const BOB: u64 = 1002;
const CAT: u64 = 1003;
const DAN: u64 = 1004;

struct Running {
    client: Client,
    bus: LocalLog,
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
    let task = tokio::spawn(photoshare_runtime::serve(
        &photoshare_engagement::SPEC,
        listener,
        config,
        photoshare_runtime::SharedBackends::with_bus(Arc::new(bus.clone())),
        shutdown.clone(),
    ));
    let channel = loop {
        if let Ok(channel) = Channel::from_shared(url.clone()).unwrap().connect().await {
            break channel;
        }
        assert!(
            !task.is_finished(),
            "the engagement service stopped during start-up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    Running {
        client: EngagementClient::new(channel),
        bus,
        shutdown,
        task,
        _data_dir: data_dir,
    }
}

fn like_request(user_id: u64, photo_id: u64, photo_author_id: u64) -> pb::LikeRequest {
    pb::LikeRequest {
        user_id,
        photo_id,
        photo_author_id,
    }
}

async fn like(client: &mut Client, user_id: u64, photo_id: u64, author: u64) {
    client
        .like(like_request(user_id, photo_id, author))
        .await
        .unwrap();
}

async fn unlike(client: &mut Client, user_id: u64, photo_id: u64, author: u64) {
    client
        .unlike(like_request(user_id, photo_id, author))
        .await
        .unwrap();
}

async fn stats(client: &mut Client, viewer_id: u64, photo_ids: &[u64]) -> Vec<pb::PhotoStats> {
    client
        .batch_photo_stats(pb::BatchPhotoStatsRequest {
            viewer_id,
            photo_ids: photo_ids.to_vec(),
        })
        .await
        .unwrap()
        .into_inner()
        .stats
}

/// (like_count, comment_count, liked_by_me) of one photo as `viewer` sees it.
async fn one(client: &mut Client, viewer: u64, photo_id: u64) -> (u64, u64, bool) {
    let stats = stats(client, viewer, &[photo_id]).await;
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].photo_id, photo_id);
    (
        stats[0].like_count,
        stats[0].comment_count,
        stats[0].liked_by_me,
    )
}

fn list_request(photo_id: u64, cursor: &str, limit: u32) -> pb::ListByPhotoRequest {
    pb::ListByPhotoRequest {
        photo_id,
        page: Some(PageRequest {
            cursor: cursor.to_owned(),
            limit,
        }),
    }
}

/// Every liker of a photo, following the cursor with pages of `limit`; also the page sizes.
async fn all_likers(client: &mut Client, photo_id: u64, limit: u32) -> (Vec<u64>, Vec<usize>) {
    let (mut users, mut sizes, mut cursor) = (Vec::new(), Vec::new(), String::new());
    loop {
        let page = client
            .list_likes(list_request(photo_id, &cursor, limit))
            .await
            .unwrap()
            .into_inner();
        sizes.push(page.user_ids.len());
        users.extend(page.user_ids);
        cursor = page.page.unwrap().next_cursor;
        if cursor.is_empty() {
            return (users, sizes);
        }
        assert!(sizes.len() < 1000, "the cursor does not advance");
    }
}

/// Every comment of a photo, following the cursor with pages of `limit`; also the page sizes.
async fn all_comments(
    client: &mut Client,
    photo_id: u64,
    limit: u32,
) -> (Vec<pb::Comment>, Vec<usize>) {
    let (mut comments, mut sizes, mut cursor) = (Vec::new(), Vec::new(), String::new());
    loop {
        let page = client
            .list_comments(list_request(photo_id, &cursor, limit))
            .await
            .unwrap()
            .into_inner();
        sizes.push(page.comments.len());
        comments.extend(page.comments);
        cursor = page.page.unwrap().next_cursor;
        if cursor.is_empty() {
            return (comments, sizes);
        }
        assert!(sizes.len() < 1000, "the cursor does not advance");
    }
}

async fn comment(
    client: &mut Client,
    user_id: u64,
    photo_id: u64,
    author: u64,
    text: &str,
) -> Result<pb::Comment, tonic::Status> {
    client
        .create_comment(pb::CreateCommentRequest {
            user_id,
            photo_id,
            photo_author_id: author,
            text: text.to_owned(),
            idempotency_key: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn delete(client: &mut Client, user_id: u64, comment_id: u64) -> Result<(), ErrorCode> {
    client
        .delete_comment(pb::DeleteCommentRequest {
            user_id,
            comment_id,
        })
        .await
        .map(|_| ())
        .map_err(|status| ErrorCode::from_status(&status))
}

fn code<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> ErrorCode {
    ErrorCode::from_status(&result.unwrap_err())
}

async fn likes_and_stats(postgres: bool) {
    let mut running = start(postgres).await;
    let client = &mut running.client;
    let (photo, other, untouched) = (9001, 9002, 9003);

    like(client, BOB, photo, ANN).await;
    like(client, BOB, photo, ANN).await;
    assert_eq!(
        one(client, BOB, photo).await,
        (1, 0, true),
        "a repeated like counts once"
    );
    like(client, CAT, photo, ANN).await;
    like(client, CAT, other, ANN).await;
    assert_eq!(one(client, BOB, photo).await, (2, 0, true));
    assert_eq!(one(client, DAN, photo).await, (2, 0, false));

    unlike(client, BOB, photo, ANN).await;
    unlike(client, BOB, photo, ANN).await;
    unlike(client, DAN, photo, ANN).await;
    assert_eq!(
        one(client, BOB, photo).await,
        (1, 0, false),
        "a repeated unlike, or one without a like, changes nothing"
    );
    assert_eq!(one(client, CAT, photo).await, (1, 0, true));
    assert_eq!(all_likers(client, photo, 0).await.0, [CAT]);

    // Liking again after an unlike counts again and makes the newest like.
    like(client, BOB, photo, ANN).await;
    assert_eq!(one(client, BOB, photo).await, (2, 0, true));
    assert_eq!(all_likers(client, photo, 0).await.0, [BOB, CAT]);

    // The answer follows the request's order, with zeros for photos nobody touched.
    let batch = stats(client, CAT, &[untouched, other, photo, untouched]).await;
    let seen: Vec<(u64, u64, u64, bool)> = batch
        .iter()
        .map(|s| (s.photo_id, s.like_count, s.comment_count, s.liked_by_me))
        .collect();
    assert_eq!(
        seen,
        [
            (untouched, 0, 0, false),
            (other, 1, 0, true),
            (photo, 2, 0, true),
            (untouched, 0, 0, false),
        ]
    );
    let for_bob = stats(client, BOB, &[other, photo]).await;
    assert_eq!(
        for_bob.iter().map(|s| s.liked_by_me).collect::<Vec<_>>(),
        [false, true]
    );
    assert!(stats(client, BOB, &[]).await.is_empty());
    let most: Vec<u64> = (1..=100).collect();
    assert_eq!(stats(client, BOB, &most).await.len(), 100);
    let too_many: Vec<u64> = (1..=101).collect();
    assert_eq!(
        code(
            client
                .batch_photo_stats(pb::BatchPhotoStatsRequest {
                    viewer_id: BOB,
                    photo_ids: too_many,
                })
                .await
        ),
        ErrorCode::ValidationFailed
    );
    assert_eq!(
        code(client.like(like_request(0, photo, ANN)).await),
        ErrorCode::ValidationFailed,
        "a like without a user"
    );

    running.stop().await;
}

async fn comments(postgres: bool) {
    let mut running = start(postgres).await;
    let client = &mut running.client;
    let photo = 9101;

    // Validation.
    for bad in [
        String::new(),
        " \n\t ".to_owned(),
        "x".repeat(2201),
        "é".repeat(2201),
        "bell\u{7}".to_owned(),
        "tab\there".to_owned(),
        "nul\0".to_owned(),
    ] {
        assert_eq!(
            code(comment(client, BOB, photo, ANN, &bad).await),
            ErrorCode::ValidationFailed,
            "{:?}",
            bad.chars().take(20).collect::<String>()
        );
    }
    assert_eq!(
        one(client, BOB, photo).await,
        (0, 0, false),
        "refused comments count nothing"
    );

    let longest = "é".repeat(2200);
    let first = comment(client, BOB, photo, ANN, "first!\nnice")
        .await
        .unwrap();
    assert_eq!(first.photo_id, photo);
    assert_eq!(first.author_id, BOB);
    assert_eq!(first.text, "first!\nnice");
    assert!(first.created_at_ms > 0);
    let second = comment(client, CAT, photo, ANN, &longest).await.unwrap();
    let third = comment(client, ANN, photo, ANN, "thanks").await.unwrap();
    let fourth = comment(client, BOB, photo, ANN, "again").await.unwrap();
    assert_eq!(one(client, DAN, photo).await, (0, 4, false));

    let (listed, _) = all_comments(client, photo, 0).await;
    assert_eq!(
        listed,
        [first.clone(), second.clone(), third.clone(), fourth.clone()],
        "oldest first, texts as typed"
    );

    // The comment's author may delete it; then it is gone.
    assert_eq!(delete(client, BOB, first.id).await, Ok(()));
    assert_eq!(
        delete(client, BOB, first.id).await,
        Err(ErrorCode::NotFound)
    );
    // The photo's author may delete anyone's comment under it.
    assert_eq!(delete(client, ANN, second.id).await, Ok(()));
    // Nobody else may; the comment stays.
    assert_eq!(
        delete(client, DAN, fourth.id).await,
        Err(ErrorCode::Forbidden)
    );
    assert_eq!(
        delete(client, CAT, third.id).await,
        Err(ErrorCode::Forbidden)
    );
    assert_eq!(delete(client, DAN, 424242).await, Err(ErrorCode::NotFound));
    assert_eq!(delete(client, ANN, 424242).await, Err(ErrorCode::NotFound));

    let (listed, _) = all_comments(client, photo, 0).await;
    assert_eq!(listed, [third.clone(), fourth.clone()]);
    assert_eq!(one(client, DAN, photo).await, (0, 2, false));
    assert_eq!(delete(client, BOB, fourth.id).await, Ok(()));
    assert_eq!(delete(client, ANN, third.id).await, Ok(()));
    assert_eq!(
        delete(client, ANN, third.id).await,
        Err(ErrorCode::NotFound)
    );
    assert_eq!(one(client, DAN, photo).await, (0, 0, false));
    assert!(all_comments(client, photo, 0).await.0.is_empty());

    running.stop().await;
}

async fn next_event(subscription: &mut Box<dyn Subscription>) -> photoshare_events::Message {
    let delivery = tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .expect("an event within 10 s")
        .unwrap();
    subscription.commit(&delivery).await.unwrap();
    delivery.message
}

async fn events_reach_the_bus(postgres: bool) {
    let mut running = start(postgres).await;
    let mut subscription = running
        .bus
        .subscribe(
            "engagement-test",
            &[
                topics::ENGAGEMENT_LIKED.to_owned(),
                topics::ENGAGEMENT_COMMENTED.to_owned(),
            ],
        )
        .await
        .unwrap();
    let client = &mut running.client;
    let photo = 9201;

    like(client, BOB, photo, ANN).await;
    like(client, BOB, photo, ANN).await; // no second event
    unlike(client, BOB, photo, ANN).await; // no event
    like(client, CAT, photo, ANN).await;
    let _ = comment(client, DAN, photo, ANN, "").await; // refused: no event
    let made = comment(client, DAN, photo, ANN, "lovely").await.unwrap();

    let liked = |message: &photoshare_events::Message| {
        assert_eq!(message.topic, topics::ENGAGEMENT_LIKED);
        assert_eq!(message.key, photo.to_string());
        let envelope = message.envelope().unwrap();
        assert_eq!(envelope.r#type, topics::ENGAGEMENT_LIKED);
        events::Liked::decode(envelope.payload.as_slice()).unwrap()
    };
    let mut received = Vec::new();
    for _ in 0..3 {
        received.push(next_event(&mut subscription).await);
    }
    // Likes and comments are two topics, ordered only within each (one photo, one key).
    let (likes, comments): (Vec<_>, Vec<_>) = received
        .into_iter()
        .partition(|message| message.topic == topics::ENGAGEMENT_LIKED);
    assert_eq!(
        (likes.len(), comments.len()),
        (2, 1),
        "two likes and a comment"
    );
    let (first, second, third) = (&likes[0], &likes[1], &comments[0]);
    assert_eq!(
        liked(first),
        events::Liked {
            photo_id: photo,
            user_id: BOB,
            photo_author_id: ANN,
        }
    );
    assert_eq!(
        liked(second),
        events::Liked {
            photo_id: photo,
            user_id: CAT,
            photo_author_id: ANN,
        },
        "the repeated like and the unlike published nothing"
    );
    assert_eq!(third.topic, topics::ENGAGEMENT_COMMENTED);
    assert_eq!(third.key, photo.to_string());
    let envelope = third.envelope().unwrap();
    assert_eq!(
        events::Commented::decode(envelope.payload.as_slice()).unwrap(),
        events::Commented {
            photo_id: photo,
            comment_id: made.id,
            user_id: DAN,
            photo_author_id: ANN,
        }
    );
    assert_ne!(first.envelope().unwrap().id, second.envelope().unwrap().id);
    assert!(
        tokio::time::timeout(Duration::from_millis(700), subscription.next())
            .await
            .is_err(),
        "no further events"
    );

    running.stop().await;
}

async fn paging(postgres: bool) {
    let mut running = start(postgres).await;
    let client = &mut running.client;
    let photo = 9301;
    let mut made = Vec::new();
    for n in 0..27u64 {
        let text = format!("comment {n}");
        made.push(
            comment(client, 2000 + n % 3, photo, ANN, &text)
                .await
                .unwrap(),
        );
        like(client, 3000 + n, photo, ANN).await;
    }
    // Another photo's items never show up.
    comment(client, BOB, photo + 1, ANN, "elsewhere")
        .await
        .unwrap();
    like(client, BOB, photo + 1, ANN).await;

    let (comments, sizes) = all_comments(client, photo, 7).await;
    assert_eq!(sizes, [7, 7, 7, 6]);
    assert_eq!(comments, made, "each comment once, oldest first");

    let (likers, sizes) = all_likers(client, photo, 7).await;
    assert_eq!(sizes, [7, 7, 7, 6]);
    let newest_first: Vec<u64> = (0..27u64).rev().map(|n| 3000 + n).collect();
    assert_eq!(likers, newest_first, "each liker once, newest first");
    assert_eq!(one(client, ANN, photo).await, (27, 27, false));

    // Limits: 0 is the default (20), the maximum is 50, above it is refused.
    let default = client
        .list_comments(list_request(photo, "", 0))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(default.comments.len(), 20);
    let default = client
        .list_likes(pb::ListByPhotoRequest {
            photo_id: photo,
            page: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(default.user_ids.len(), 20);
    let (_, sizes) = all_likers(client, photo, 50).await;
    assert_eq!(sizes, [27]);
    assert_eq!(
        code(client.list_comments(list_request(photo, "", 51)).await),
        ErrorCode::ValidationFailed
    );
    assert_eq!(
        code(client.list_likes(list_request(photo, "", 51)).await),
        ErrorCode::ValidationFailed
    );
    for bad in ["abc", "-5", "0", "99999999999999999999"] {
        assert_eq!(
            code(client.list_comments(list_request(photo, bad, 5)).await),
            ErrorCode::ValidationFailed,
            "{bad}"
        );
        assert_eq!(
            code(client.list_likes(list_request(photo, bad, 5)).await),
            ErrorCode::ValidationFailed,
            "{bad}"
        );
    }
    let empty = client
        .list_likes(list_request(404, "", 5))
        .await
        .unwrap()
        .into_inner();
    assert!(empty.user_ids.is_empty());
    assert_eq!(empty.page.unwrap().next_cursor, "");

    running.stop().await;
}

/// A fixed-seed linear congruential generator: the same "random" calls on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

async fn concurrent_likes_keep_counts_true(postgres: bool) {
    let running = start(postgres).await;
    let photos = [9401u64, 9402];
    let users = [ANN, BOB, CAT, DAN, 1005];
    let mut random = Lcg(0x5eed);
    let mut calls = Vec::new();
    for _ in 0..200 {
        let user = users[(random.next() % users.len() as u64) as usize];
        let photo = photos[(random.next() % photos.len() as u64) as usize];
        let likes = random.next() % 3 < 2; // two likes for each unlike
        let mut client = running.client.clone();
        calls.push(tokio::spawn(async move {
            let request = like_request(user, photo, 1);
            if likes {
                client.like(request).await.map(|_| ())
            } else {
                client.unlike(request).await.map(|_| ())
            }
        }));
    }
    for call in calls {
        call.await.unwrap().expect("every call succeeds");
    }

    let mut client = running.client.clone();
    let mut listed = 0;
    for photo in photos {
        let (likers, _) = all_likers(&mut client, photo, 3).await;
        listed += likers.len();
        let mut unique = likers.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), likers.len(), "a liker listed twice");
        for user in users {
            let (like_count, _, liked_by_me) = one(&mut client, user, photo).await;
            assert_eq!(
                like_count,
                likers.len() as u64,
                "the count is the number of likers"
            );
            assert_eq!(liked_by_me, likers.contains(&user), "user {user}");
        }
    }
    assert!(listed > 0, "the calls left some likes behind");

    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn likes_and_stats_on_sqlite() {
    likes_and_stats(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn likes_and_stats_on_postgres() {
    likes_and_stats(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_on_sqlite() {
    comments(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_on_postgres() {
    comments(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_the_bus_on_sqlite() {
    events_reach_the_bus(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_the_bus_on_postgres() {
    events_reach_the_bus(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_on_sqlite() {
    paging(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_on_postgres() {
    paging(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_likes_keep_counts_true_on_sqlite() {
    concurrent_likes_keep_counts_true(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_likes_keep_counts_true_on_postgres() {
    concurrent_likes_keep_counts_true(true).await;
}

async fn keyed_comment(
    client: &mut Client,
    user_id: u64,
    photo_id: u64,
    text: &str,
    key: &str,
) -> Result<pb::Comment, tonic::Status> {
    client
        .create_comment(pb::CreateCommentRequest {
            user_id,
            photo_id,
            photo_author_id: ANN,
            text: text.to_owned(),
            idempotency_key: key.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// A comment retried with its Idempotency-Key is stored and counted once and answered with the
/// first comment, even after that was deleted; the key with another photo or text is refused;
/// keys are per author; racing retries all get the one comment.
async fn idempotent_comments(postgres: bool) {
    let running = start(postgres).await;
    let mut client = running.client.clone();
    let client = &mut client;
    let first = keyed_comment(client, BOB, 7, "hello", "k1").await.unwrap();
    let again = keyed_comment(client, BOB, 7, "hello", "k1").await.unwrap();
    assert_eq!(again, first);
    assert_eq!(one(client, BOB, 7).await.1, 1, "counted once");
    for (case, photo, text) in [("another text", 7, "hello!"), ("another photo", 8, "hello")] {
        assert_eq!(
            code(keyed_comment(client, BOB, photo, text, "k1").await),
            ErrorCode::IdempotencyKeyReused,
            "{case}"
        );
    }
    let cats = keyed_comment(client, CAT, 7, "hello", "k1").await.unwrap();
    assert_ne!(cats.id, first.id, "keys are per author");
    let unkeyed = comment(client, BOB, 7, ANN, "hello").await.unwrap();
    assert_ne!(unkeyed.id, first.id);
    assert_eq!(one(client, BOB, 7).await.1, 3);

    let fetched = client
        .get_comment(pb::GetCommentRequest {
            comment_id: first.id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched, first);
    delete(client, BOB, first.id).await.unwrap();
    assert_eq!(
        code(
            client
                .get_comment(pb::GetCommentRequest {
                    comment_id: first.id
                })
                .await
        ),
        ErrorCode::NotFound
    );
    let after_delete = keyed_comment(client, BOB, 7, "hello", "k1").await.unwrap();
    assert_eq!(after_delete, first, "the first answer, not a new comment");
    assert_eq!(one(client, BOB, 7).await.1, 2);

    let racing = (0..4).map(|_| {
        let mut client = client.clone();
        async move { keyed_comment(&mut client, DAN, 9, "race", "k2").await }
    });
    let ids: Vec<u64> = futures::future::join_all(racing)
        .await
        .into_iter()
        .map(|answer| answer.expect("every retry is answered").id)
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(one(client, DAN, 9).await.1, 1);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_comments_on_sqlite() {
    idempotent_comments(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_comments_on_postgres() {
    idempotent_comments(true).await;
}
