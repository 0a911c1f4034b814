//! The cache against the shared Redis (`photoshare_test_support::require_redis`), each test
//! under a key prefix of its own: the conformance suite, the key layout, expiries, and the
//! time of a fan-out to 10 000 followers.

use std::time::{Duration, Instant};

use photoshare_feed_redis::{RedisCache, RedisCacheOptions};
use photoshare_feed_store::conformance::{post_id, run_cache_suite};
use photoshare_feed_store::{FeedCache, FeedEntry};

fn prefix() -> String {
    format!("{}_", photoshare_test_support::unique_name("t"))
}

async fn cache(url: &str, prefix: &str, cap: usize, ttl: Duration) -> RedisCache {
    RedisCache::connect(
        url,
        RedisCacheOptions {
            cap,
            ttl,
            key_prefix: prefix.to_owned(),
        },
    )
    .await
    .expect("connects")
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn keys_under(url: &str, prefix: &str) -> Vec<String> {
    let mut connection = raw(url).await;
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut connection)
        .await
        .unwrap();
    keys.sort();
    keys
}

async fn pttl(url: &str, key: &str) -> i64 {
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut raw(url).await)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_redis_cache_conforms() {
    let url = photoshare_test_support::require_redis().await;
    run_cache_suite(|settings| {
        let url = url.clone();
        async move {
            Box::new(cache(&url, &prefix(), settings.cap, settings.ttl).await) as Box<dyn FeedCache>
        }
    })
    .await;
}

#[tokio::test]
async fn both_keys_of_a_reader_carry_its_hash_tag() {
    let url = photoshare_test_support::require_redis().await;
    let prefix = prefix();
    let cache = cache(&url, &prefix, 10, Duration::from_secs(60)).await;
    for user in [7u64, 1_234_567_890_123] {
        cache.begin_rebuild(user).await.unwrap();
        cache
            .finish_rebuild(user, &[FeedEntry::new(post_id(1, 0, 0), 3)], true)
            .await
            .unwrap();
    }
    assert_eq!(
        keys_under(&url, &prefix).await,
        vec![
            format!("{prefix}feed:{{1234567890123}}"),
            format!("{prefix}feed:{{1234567890123}}:meta"),
            format!("{prefix}feed:{{7}}"),
            format!("{prefix}feed:{{7}}:meta"),
        ]
    );
    let mut connection = raw(&url).await;
    let members: Vec<String> = redis::cmd("ZRANGE")
        .arg(format!("{prefix}feed:{{7}}"))
        .arg(0)
        .arg(-1)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(members, vec![format!("{:020}:3", post_id(1, 0, 0))]);
    let meta: Vec<(String, String)> = redis::cmd("HGETALL")
        .arg(format!("{prefix}feed:{{7}}:meta"))
        .query_async(&mut connection)
        .await
        .unwrap();
    let mut meta = meta;
    meta.sort();
    assert_eq!(
        meta,
        vec![
            ("state".to_owned(), "ready".to_owned()),
            ("truncated".to_owned(), "0".to_owned())
        ]
    );
    cache.wipe(7).await.unwrap();
    cache.wipe(1_234_567_890_123).await.unwrap();
    assert!(
        keys_under(&url, &prefix).await.is_empty(),
        "wipe deletes both"
    );
}

#[tokio::test]
async fn reads_renew_both_keys_and_pushes_renew_nothing() {
    let url = photoshare_test_support::require_redis().await;
    let prefix = prefix();
    let cache = cache(&url, &prefix, 10, Duration::from_secs(60)).await;
    let (feed, meta) = (
        format!("{prefix}feed:{{5}}"),
        format!("{prefix}feed:{{5}}:meta"),
    );
    let only = FeedEntry::new(post_id(1, 0, 0), 1);
    cache.begin_rebuild(5).await.unwrap();
    cache.finish_rebuild(5, &[only], true).await.unwrap();
    assert!(pttl(&url, &feed).await > 59_000);

    // Emptied, the sorted set is gone, but the cache (its meta) lives on.
    cache.remove_post(&[5], only).await.unwrap();
    assert_eq!(pttl(&url, &feed).await, -2);
    let page = cache
        .read(5, None, 10)
        .await
        .unwrap()
        .expect("still a cache");
    assert!(page.entries.is_empty());
    assert_eq!(page.window_floor, None);

    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = pttl(&url, &meta).await;
    let pushed = FeedEntry::new(post_id(2, 0, 0), 1);
    assert_eq!(cache.push(&[5], pushed).await.unwrap(), 1);
    assert!(cache.insert(5, &[only]).await.unwrap());
    let (feed_ttl, meta_ttl) = (pttl(&url, &feed).await, pttl(&url, &meta).await);
    assert!(meta_ttl <= before, "a push does not renew the meta");
    assert!(
        feed_ttl > 0 && feed_ttl <= before,
        "the sorted set ZADD re-created takes the meta's remaining ttl, not more: {feed_ttl} vs {before}"
    );

    cache.read(5, None, 1).await.unwrap().unwrap();
    assert!(pttl(&url, &meta).await > before);
    assert!(pttl(&url, &feed).await > before);
}

#[tokio::test]
async fn a_sorted_set_without_meta_is_no_cache() {
    let url = photoshare_test_support::require_redis().await;
    let prefix = prefix();
    let cache = cache(&url, &prefix, 10, Duration::from_secs(60)).await;
    let stale = FeedEntry::new(post_id(1, 0, 0), 1);
    // What an eviction of the meta alone, or another writer, could leave.
    let _: i64 = redis::cmd("ZADD")
        .arg(format!("{prefix}feed:{{9}}"))
        .arg(1)
        .arg(format!("{:020}:1", stale.post_id))
        .query_async(&mut raw(&url).await)
        .await
        .unwrap();
    assert_eq!(cache.read(9, None, 10).await.unwrap(), None);
    assert_eq!(
        cache
            .push(&[9], FeedEntry::new(post_id(2, 0, 0), 1))
            .await
            .unwrap(),
        0
    );
    cache.begin_rebuild(9).await.unwrap();
    cache.finish_rebuild(9, &[], true).await.unwrap();
    assert!(
        cache
            .read(9, None, 10)
            .await
            .unwrap()
            .unwrap()
            .entries
            .is_empty(),
        "a rebuild starts from nothing, not from the orphan"
    );
    cache.wipe(9).await.unwrap();
}

#[tokio::test]
async fn many_ids_sharing_one_score_page_exactly() {
    let url = photoshare_test_support::require_redis().await;
    let cache = cache(&url, &prefix(), 800, Duration::from_secs(60)).await;
    // 600 consecutive ids at the top of the id space: hundreds share each f64.
    let entries: Vec<FeedEntry> = (0..600)
        .map(|i| FeedEntry::new(u64::MAX - 2_000 + i, i % 7))
        .collect();
    cache.begin_rebuild(1).await.unwrap();
    cache.finish_rebuild(1, &entries, true).await.unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = cache.read(1, cursor, 7).await.unwrap().unwrap();
        if page.entries.is_empty() {
            break;
        }
        cursor = page.entries.last().map(|entry| entry.post_id);
        seen.extend(page.entries);
    }
    let mut expected = entries.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    let mid = cache
        .read(1, Some(entries[300].post_id), 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mid.entries, vec![entries[299], entries[298], entries[297]]);
    cache.wipe(1).await.unwrap();
}

/// The scripts add one to a 64-bit id as two 10-digit halves: the carry between them.
#[tokio::test]
async fn a_floor_just_above_a_trimmed_id_carries_across_digits() {
    let url = photoshare_test_support::require_redis().await;
    let cache = cache(&url, &prefix(), 1, Duration::from_secs(60)).await;
    let newest = FeedEntry::new(20_000_000_005, 1);
    cache.begin_rebuild(1).await.unwrap();
    cache.finish_rebuild(1, &[newest], true).await.unwrap();
    assert_eq!(
        cache
            .push(&[1], FeedEntry::new(19_999_999_999, 1))
            .await
            .unwrap(),
        1
    );
    let page = cache.read(1, None, 10).await.unwrap().unwrap();
    assert_eq!(page.entries, vec![newest]);
    assert_eq!(page.window_floor, Some(20_000_000_000));
    cache
        .push(&[1], FeedEntry::new(20_000_000_000, 1))
        .await
        .unwrap();
    let page = cache.read(1, None, 10).await.unwrap().unwrap();
    assert_eq!(page.window_floor, Some(20_000_000_001));
    // Below the floor: not even added (so the floor stays).
    cache.push(&[1], FeedEntry::new(7, 1)).await.unwrap();
    let page = cache.read(1, None, 10).await.unwrap().unwrap();
    assert_eq!(page.window_floor, Some(20_000_000_001));
    cache.wipe(1).await.unwrap();
}

#[tokio::test]
async fn options_that_make_no_sense_are_refused() {
    let url = photoshare_test_support::require_redis().await;
    let options = |ttl: Duration, key_prefix: &str| RedisCacheOptions {
        cap: 10,
        ttl,
        key_prefix: key_prefix.to_owned(),
    };
    assert!(RedisCache::connect(&url, options(Duration::ZERO, "t_"))
        .await
        .is_err());
    assert!(
        RedisCache::connect(&url, options(Duration::from_secs(1), "t{x}_"))
            .await
            .is_err()
    );
    let cache = RedisCache::connect(&url, options(Duration::from_secs(1), "t_"))
        .await
        .unwrap();
    cache.ping().await.unwrap();
}

/// The server on 6379 speaks plain TCP: a `rediss://` client must fail its handshake with an
/// error (which also proves the TLS configuration builds, crypto provider included).
#[tokio::test]
async fn tls_to_a_plain_server_is_an_error_not_a_panic() {
    let url = photoshare_test_support::require_redis().await;
    let tls_url = url.replacen("redis://", "rediss://", 1);
    let options = RedisCacheOptions {
        cap: 10,
        ttl: Duration::from_secs(1),
        key_prefix: String::new(),
    };
    let answer = tokio::time::timeout(
        Duration::from_secs(30),
        RedisCache::connect(&tls_url, options),
    )
    .await
    .expect("fails in time");
    let error = answer.err().expect("no TLS server there").to_string();
    assert!(error.starts_with("redis: rediss://"), "{error}");
}

async fn build_caches(cache: &RedisCache, users: &[u64], entries: &[FeedEntry]) {
    for batch in users.chunks(500) {
        futures::future::try_join_all(batch.iter().map(|user| async move {
            cache.begin_rebuild(*user).await?;
            cache.finish_rebuild(*user, entries, true).await
        }))
        .await
        .unwrap();
    }
}

/// Pushes `rounds` posts (newer than any cached) to `users`; the median time.
async fn time_pushes(cache: &RedisCache, users: &[u64], day: u64, landing: usize) -> Duration {
    let mut times = Vec::new();
    for round in 0..5 {
        let entry = FeedEntry::new(post_id(day, round, 0), 42);
        let started = Instant::now();
        let landed = cache.push(users, entry).await.unwrap();
        times.push(started.elapsed());
        assert_eq!(landed, landing);
    }
    times.sort();
    times[times.len() / 2]
}

fn ms(time: Duration) -> String {
    format!("{:.1} ms", time.as_secs_f64() * 1e3)
}

/// The fan-out hot path: one post to 10 000 followers whose caches have room, whose caches are
/// full (each push also trims), and who have no cache (inactive readers). Prints the median
/// times; asserts only the counts.
#[tokio::test]
async fn a_push_to_ten_thousand_followers() {
    let url = photoshare_test_support::require_redis().await;
    let prefix = prefix();
    let cap = 50;
    let cache = cache(&url, &prefix, cap, Duration::from_secs(120)).await;
    let with_room: Vec<u64> = (1..=10_000).collect();
    let full: Vec<u64> = (10_001..=20_000).collect();
    let without: Vec<u64> = (20_001..=30_000).collect();
    let old = |count: u64| -> Vec<FeedEntry> {
        (0..count)
            .map(|i| FeedEntry::new(post_id(10, i, 0), 9))
            .collect()
    };
    build_caches(&cache, &with_room, &old(20)).await;
    build_caches(&cache, &full, &old(cap as u64)).await;

    let room = time_pushes(&cache, &with_room, 11, 10_000).await;
    let trimming = time_pushes(&cache, &full, 12, 10_000).await;
    let inactive = time_pushes(&cache, &without, 13, 0).await;
    let page = cache.read(20_000, None, 1).await.unwrap().unwrap();
    assert_eq!(page.entries, vec![FeedEntry::new(post_id(12, 4, 0), 42)]);
    assert_eq!(page.window_floor, Some(post_id(10, 4, 0) + 1));
    println!(
        "push to 10 000 followers: caches with room {} ({:.0} ZADD/s), full caches {} \
         ({:.0} ZADD/s), no caches {}",
        ms(room),
        10_000.0 / room.as_secs_f64(),
        ms(trimming),
        10_000.0 / trimming.as_secs_f64(),
        ms(inactive),
    );

    // Leave nothing behind on the shared server.
    let mut connection = raw(&url).await;
    for batch in keys_under(&url, &prefix).await.chunks(1_000) {
        let _: i64 = redis::cmd("DEL")
            .arg(batch)
            .query_async(&mut connection)
            .await
            .unwrap();
    }
}
