//! The feed's behaviour against the real graph service and real stores: one post fanned out to
//! 10 000 followers (only the active ones get a push, an inactive one still sees it on return),
//! paging across the cached window into the durable store, celebrities pulled on read,
//! follows, unfollows and deletes. Each scenario runs on the in-process cache with SQLite and
//! on Redis with PostgreSQL.

mod support;

use std::time::Instant;

use photoshare_feed_store::FeedEntry;
use photoshare_graph::store::{ImportedFollow, Store};
use photoshare_ids::{IdGenerator, WorkerId};
use support::{deleted, followed, published, unfollowed, CacheKind, Options};

fn backends(redis: bool) -> Options {
    Options {
        cache: if redis {
            CacheKind::Redis
        } else {
            CacheKind::Memory
        },
        postgres: redis,
        ..Options::default()
    }
}

fn ids(entries: &[FeedEntry]) -> Vec<u64> {
    entries.iter().map(|entry| entry.post_id).collect()
}

async fn one_post_reaches_10_000_followers(redis: bool) {
    const FOLLOWERS: u64 = 10_000;
    let feed = support::start(backends(redis)).await;
    let author = 5;
    let followers: Vec<u64> = (1_000_000..1_000_000 + FOLLOWERS).collect();
    let edge_ids = IdGenerator::new(WorkerId::new(1).unwrap());
    let edges: Vec<ImportedFollow> = followers
        .iter()
        .map(|follower| ImportedFollow {
            id: edge_ids.next_id(),
            follower_id: *follower,
            followee_id: author,
        })
        .collect();
    let graph_store = Store::new(
        photoshare_runtime::open_database(&photoshare_graph::SPEC, &feed.config)
            .await
            .unwrap()
            .unwrap(),
    );
    assert_eq!(
        graph_store.import_follows(&edges, 1).await.unwrap(),
        FOLLOWERS
    );
    graph_store.database().close().await;

    // Every follower but the last 100 has read their (empty) feed: they are active.
    let (active, inactive) = followers.split_at(followers.len() - 100);
    for reader in active {
        feed.cache.begin_rebuild(*reader).await.unwrap();
        feed.cache.finish_rebuild(*reader, &[], true).await.unwrap();
    }

    let post = FeedEntry::new(1 << 40, author);
    let began = Instant::now();
    feed.deliver(&published(post.post_id, author)).await;
    let elapsed = began.elapsed();
    println!(
        "{}: fan-out of one post to {FOLLOWERS} followers ({} active) in {elapsed:?}",
        if redis { "redis" } else { "memory" },
        active.len()
    );

    for reader in [active[0], active[4_321], active[active.len() - 1]] {
        let page = feed.cache.read(reader, None, 10).await.unwrap().unwrap();
        assert_eq!(page.entries, vec![post], "an active follower got the push");
    }
    for reader in inactive {
        assert_eq!(
            feed.cache.read(*reader, None, 10).await.unwrap(),
            None,
            "an inactive follower got no cache from a push"
        );
    }
    // The inactive follower comes back: the feed is rebuilt and shows the post.
    let back = feed.reader.read(inactive[0], None, 20).await.unwrap();
    assert_eq!(back.entries, vec![post]);
    assert_eq!(back.next_below, None);
    assert!(feed
        .cache
        .read(inactive[0], None, 10)
        .await
        .unwrap()
        .is_some());
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_post_reaches_10_000_followers_in_memory() {
    one_post_reaches_10_000_followers(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_post_reaches_10_000_followers_on_redis() {
    one_post_reaches_10_000_followers(true).await;
}

/// A cap of 10 and 45 posts by three authors: pages of 7 run through the cached window into
/// the durable store without a gap or a duplicate, for a reader whose cache was filled by
/// pushes and for one whose cache is rebuilt.
async fn pages_cross_the_cache_window(redis: bool) {
    let feed = support::start(Options {
        cache_cap: 10,
        ..backends(redis)
    })
    .await;
    let reader = 100;
    let fresh_reader = 101;
    for author in [1, 2, 3] {
        assert!(feed.follow(reader, author, false).await);
        assert!(feed.follow(fresh_reader, author, false).await);
    }
    // The reader is active from the start; the other one has never read.
    assert!(feed
        .reader
        .read(reader, None, 5)
        .await
        .unwrap()
        .entries
        .is_empty());
    let mut expected = Vec::new();
    for n in 0..45u64 {
        let author = 1 + n % 3;
        let post = (1 << 40) + n * 1_000;
        feed.deliver(&published(post, author)).await;
        expected.push(post);
    }
    expected.reverse();
    let window = feed.cache.read(reader, None, 100).await.unwrap().unwrap();
    assert_eq!(window.entries.len(), 10, "the cache holds the cap");
    assert!(window.window_floor.is_some());

    assert_eq!(ids(&feed.read_all(reader, 7).await), expected);
    assert_eq!(ids(&feed.read_all(fresh_reader, 7).await), expected);
    assert_eq!(ids(&feed.read_all(fresh_reader, 50).await), expected);

    // The reader's own posts are part of their feed.
    let own = (1 << 40) + 99_999;
    feed.deliver(&published(own, reader)).await;
    let top = feed.reader.read(reader, None, 1).await.unwrap();
    assert_eq!(ids(&top.entries), vec![own]);
    feed.stop().await;
}

#[tokio::test]
async fn pages_cross_the_cache_window_in_memory() {
    pages_cross_the_cache_window(false).await;
}

#[tokio::test]
async fn pages_cross_the_cache_window_on_redis() {
    pages_cross_the_cache_window(true).await;
}

/// Follow backfills, unfollow removes, delete removes, a private account's posts reach only
/// approved followers, and a celebrity's posts are pulled, not pushed.
async fn follows_unfollows_deletes_and_celebrities(redis: bool) {
    let feed = support::start(Options {
        fanout_threshold: 2,
        ..backends(redis)
    })
    .await;
    let (reader, friend, private, star) = (10, 20, 30, 40);
    assert!(feed
        .reader
        .read(reader, None, 5)
        .await
        .unwrap()
        .entries
        .is_empty());

    let friend_posts = [(1 << 40) + 1, (1 << 40) + 2];
    for post in friend_posts {
        feed.deliver(&published(post, friend)).await;
    }
    assert!(feed
        .reader
        .read(reader, None, 5)
        .await
        .unwrap()
        .entries
        .is_empty());
    assert!(feed.follow(reader, friend, false).await);
    feed.deliver(&followed(reader, friend)).await;
    assert_eq!(
        ids(&feed.read_all(reader, 5).await),
        vec![friend_posts[1], friend_posts[0]],
        "following shows the recent posts"
    );

    // A private account: a pending request shows nothing, approval does.
    let private_post = (1 << 40) + 3;
    feed.deliver(&published(private_post, private)).await;
    assert!(!feed.follow(reader, private, true).await);
    // Even a stray event cannot leak: the graph says "not following".
    feed.deliver(&followed(reader, private)).await;
    assert!(!ids(&feed.read_all(reader, 5).await).contains(&private_post));
    assert!(feed.approve(private, reader).await);
    feed.deliver(&followed(reader, private)).await;
    assert_eq!(ids(&feed.read_all(reader, 5).await)[0], private_post);

    // A star with three followers (threshold 2): posts are not pushed, yet readers see them.
    for fan in [reader, 11, 12] {
        assert!(feed.follow(fan, star, false).await);
    }
    let star_post = (1 << 40) + 4;
    feed.deliver(&published(star_post, star)).await;
    let cached = feed.cache.read(reader, None, 10).await.unwrap().unwrap();
    assert!(!ids(&cached.entries).contains(&star_post), "not pushed");
    assert!(feed.posts.has_unpushed(star).await.unwrap());
    assert_eq!(ids(&feed.read_all(reader, 2).await)[0], star_post, "pulled");
    assert_eq!(ids(&feed.read_all(11, 2).await), vec![star_post]);

    // The star falls under the threshold: the post is pushed to the remaining followers.
    feed.unfollow(12, star).await;
    feed.deliver(&unfollowed(12, star)).await;
    assert!(!feed.posts.has_unpushed(star).await.unwrap());
    let cached = feed.cache.read(reader, None, 10).await.unwrap().unwrap();
    assert!(
        ids(&cached.entries).contains(&star_post),
        "pushed after all"
    );
    assert_eq!(ids(&feed.read_all(reader, 2).await)[0], star_post);
    assert!(
        feed.read_all(12, 2).await.is_empty(),
        "no longer a follower"
    );

    // Unfollowing and deleting take posts out.
    feed.unfollow(reader, friend).await;
    feed.deliver(&unfollowed(reader, friend)).await;
    let cached = feed.cache.read(reader, None, 10).await.unwrap().unwrap();
    assert!(!ids(&cached.entries).contains(&friend_posts[0]));
    feed.deliver(&deleted(private_post, private)).await;
    feed.deliver(&deleted(private_post, private)).await;
    assert_eq!(ids(&feed.read_all(reader, 5).await), vec![star_post]);
    // The publish event arriving late does not bring the post back.
    feed.deliver(&published(private_post, private)).await;
    assert_eq!(ids(&feed.read_all(reader, 5).await), vec![star_post]);
    feed.stop().await;
}

#[tokio::test]
async fn follows_unfollows_deletes_and_celebrities_in_memory() {
    follows_unfollows_deletes_and_celebrities(false).await;
}

#[tokio::test]
async fn follows_unfollows_deletes_and_celebrities_on_redis() {
    follows_unfollows_deletes_and_celebrities(true).await;
}
