//! The cache on servers this test starts itself: a three-node Redis Cluster (the production
//! shape) running the whole conformance suite, and a standalone server that forgets its
//! scripts mid-way.

mod support;

use std::time::{Duration, Instant};

use photoshare_feed_redis::{RedisCache, RedisCacheOptions};
use photoshare_feed_store::conformance::{post_id, run_cache_suite};
use photoshare_feed_store::{FeedCache, FeedEntry};
use support::Servers;

fn options(cap: usize, ttl: Duration, key_prefix: &str) -> RedisCacheOptions {
    RedisCacheOptions {
        cap,
        ttl,
        key_prefix: key_prefix.to_owned(),
    }
}

#[tokio::test]
async fn the_cache_conforms_on_a_redis_cluster() {
    let (servers, url) = Servers::cluster().await;
    let counter = std::sync::atomic::AtomicUsize::new(0);
    run_cache_suite(|settings| {
        let prefix = format!(
            "c{}_",
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let url = url.clone();
        async move {
            Box::new(
                RedisCache::connect(&url, options(settings.cap, settings.ttl, &prefix))
                    .await
                    .expect("connects to the cluster"),
            ) as Box<dyn FeedCache>
        }
    })
    .await;

    // Readers really are spread over the nodes, and a reader's two keys share a slot.
    let cache = RedisCache::connect(&url, options(10, Duration::from_secs(60), "k_"))
        .await
        .unwrap();
    cache.ping().await.unwrap();
    let readers: Vec<u64> = (0..300).collect();
    for reader in &readers {
        cache.begin_rebuild(*reader).await.unwrap();
        cache.finish_rebuild(*reader, &[], true).await.unwrap();
    }
    let entry = FeedEntry::new(post_id(3, 0, 0), 1);
    assert_eq!(cache.push(&readers, entry).await.unwrap(), 300);
    for port in &servers.ports {
        let mut node = redis::Client::open(format!("redis://127.0.0.1:{port}"))
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("k_*")
            .query_async(&mut node)
            .await
            .unwrap();
        assert!(keys.len() > 100, "node {port} holds {} keys", keys.len());
        let slot = |key: String| {
            let mut cmd = redis::cmd("CLUSTER");
            cmd.arg("KEYSLOT").arg(key);
            cmd
        };
        let feed: i64 = slot("k_feed:{42}".into())
            .query_async(&mut node)
            .await
            .unwrap();
        let meta: i64 = slot("k_feed:{42}:meta".into())
            .query_async(&mut node)
            .await
            .unwrap();
        assert_eq!(feed, meta);
    }

    // The fan-out on a cluster, for comparison with the single node.
    let followers: Vec<u64> = (1_000..11_000).collect();
    for reader in &followers {
        cache.begin_rebuild(*reader).await.unwrap();
        cache.finish_rebuild(*reader, &[], true).await.unwrap();
    }
    let started = Instant::now();
    let landed = cache
        .push(&followers, FeedEntry::new(post_id(4, 0, 0), 1))
        .await
        .unwrap();
    println!(
        "cluster of 3: push to 10 000 followers with caches in {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(landed, 10_000);
}

#[tokio::test]
async fn a_server_that_lost_its_scripts_gets_them_again() {
    let (_server, url) = Servers::standalone().await;
    let cache = RedisCache::connect(&url, options(10, Duration::from_secs(60), ""))
        .await
        .unwrap();
    let mut admin = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let flush = || redis::cmd("SCRIPT").arg("FLUSH").clone();

    let _: () = flush().query_async(&mut admin).await.unwrap();
    cache.begin_rebuild(1).await.unwrap();
    let _: () = flush().query_async(&mut admin).await.unwrap();
    cache.finish_rebuild(1, &[], true).await.unwrap();
    let _: () = flush().query_async(&mut admin).await.unwrap();
    let entry = FeedEntry::new(post_id(1, 0, 0), 2);
    assert_eq!(cache.push(&[1, 2, 1], entry).await.unwrap(), 2);
    let _: () = flush().query_async(&mut admin).await.unwrap();
    assert_eq!(
        cache.read(1, None, 10).await.unwrap().unwrap().entries,
        vec![entry]
    );
    let _: () = flush().query_async(&mut admin).await.unwrap();
    cache.remove_author(1, 2).await.unwrap();
    assert!(cache
        .read(1, None, 10)
        .await
        .unwrap()
        .unwrap()
        .entries
        .is_empty());
}
