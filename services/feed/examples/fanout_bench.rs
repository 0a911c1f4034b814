//! Fan-out of one post to 10 000 followers, on the real Redis, beside `redis-benchmark`'s
//! pipelined ZADD in the same run (and the in-process cache for comparison).
//!
//! ```sh
//! cargo run --release -p photoshare-feed --example fanout_bench
//! ```
//!
//! `PHOTOSHARE_REDIS_URL` (default `redis://127.0.0.1:6379`) names the server; every key this
//! writes is under a prefix of its own and is deleted at the end. `FANOUT_BENCH_POSTS` (default
//! 20) sets how many posts are fanned out. Needs `redis-benchmark` and `redis-cli` on the PATH
//! (apt: redis-tools).
//!
//! The fan-out is timed as the worker does it (services/feed/src/fanout.rs): the followers
//! arrive in batches of 1 000 and each batch is one `FeedCache::push`, awaited before the next.

use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use photoshare_feed_redis::{RedisCache, RedisCacheOptions};
use photoshare_feed_store::{FeedCache, FeedEntry, MemoryCache};

const FOLLOWERS: u64 = 10_000;
const BATCH: usize = 1_000;
const CAP: usize = 800;
/// Readers are made active concurrently, this many at a time (setup only, not timed).
const SETUP_IN_FLIGHT: usize = 64;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("PHOTOSHARE_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let posts: usize = std::env::var("FANOUT_BENCH_POSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let prefix = format!(
        "fanoutbench{}x{}:",
        std::process::id(),
        nanos % 1_000_000_000
    );
    let ttl = Duration::from_secs(600);

    println!(
        "fan-out bench: {FOLLOWERS} active followers, batches of {BATCH}, cap {CAP}, {posts} posts"
    );
    println!("redis: {url}, key prefix {prefix}");

    // --- our fan-out on Redis -------------------------------------------------------------
    let redis = RedisCache::connect(
        &url,
        RedisCacheOptions {
            cap: CAP,
            ttl,
            key_prefix: prefix.clone(),
        },
    )
    .await?;
    let result = run_redis(&redis, posts).await;
    // Clean up whatever happened.
    let deleted = cleanup(&url, &prefix);
    let (redis_times, landed) = result?;
    println!("cleanup: deleted {deleted} keys under {prefix}");

    // --- the in-process cache ------------------------------------------------------------
    let memory = MemoryCache::new(CAP, ttl);
    let follower_ids: Vec<u64> = (1..=FOLLOWERS).collect();
    activate(&memory, &follower_ids).await?;
    let memory_times = fan_out_posts(&memory, &follower_ids, posts, 1 << 40).await?;

    // --- raw Redis: redis-benchmark pipelined ZADD ---------------------------------------
    let (host, port) = host_port(&url);
    let raw_key = format!("{prefix}raw:__rand_int__");
    let raw_many = redis_benchmark(&host, &port, &raw_key, 50);
    let raw_one = redis_benchmark(&host, &port, &raw_key, 1);
    let raw_deleted = cleanup(&url, &prefix);
    println!("cleanup: deleted {raw_deleted} redis-benchmark keys");

    // --- report --------------------------------------------------------------------------
    let redis_median = percentile(&redis_times, 50.0);
    let redis_p99 = percentile(&redis_times, 99.0);
    let memory_median = percentile(&memory_times, 50.0);
    let memory_p99 = percentile(&memory_times, 99.0);
    let ours_zadd = FOLLOWERS as f64 / redis_median.as_secs_f64();
    println!();
    println!("FANOUT redis_median_ms={:.2}", ms(redis_median));
    println!("FANOUT redis_p99_ms={:.2}", ms(redis_p99));
    println!("FANOUT redis_zadd_per_s={ours_zadd:.0}");
    println!("FANOUT landed_per_post={landed}");
    println!("FANOUT memory_median_ms={:.2}", ms(memory_median));
    println!("FANOUT memory_p99_ms={:.2}", ms(memory_p99));
    match raw_many {
        Some(raw) => {
            println!("FANOUT raw_zadd_per_s_c50={raw:.0}");
            println!("FANOUT ratio_ours_raw={:.3}", ours_zadd / raw);
        }
        None => println!("FANOUT raw_zadd_per_s_c50=unavailable"),
    }
    if let Some(raw) = raw_one {
        println!("FANOUT raw_zadd_per_s_c1={raw:.0}");
        println!("FANOUT ratio_ours_raw_c1={:.3}", ours_zadd / raw);
    }
    Ok(())
}

/// Activates the readers, then fans out `posts` posts; returns the times and how many active
/// caches the last push reached.
async fn run_redis(redis: &RedisCache, posts: usize) -> anyhow::Result<(Vec<Duration>, usize)> {
    let follower_ids: Vec<u64> = (1..=FOLLOWERS).collect();
    let started = Instant::now();
    activate(redis, &follower_ids).await?;
    println!(
        "redis: {FOLLOWERS} readers made active in {:.0} ms (not timed below)",
        ms(started.elapsed())
    );
    // One untimed warm-up post (connection, script cache).
    let landed = fan_out(redis, &follower_ids, FeedEntry::new(1 << 40, 999_999_999)).await?;
    anyhow::ensure!(
        landed == FOLLOWERS as usize,
        "warm-up push reached {landed} caches, expected {FOLLOWERS}"
    );
    let times = fan_out_posts(redis, &follower_ids, posts, (1 << 40) + 1).await?;
    // Every follower's cache holds the posts (cap permitting): a sanity check of the bench.
    let page = redis
        .read(FOLLOWERS, None, 5)
        .await?
        .ok_or_else(|| anyhow::anyhow!("follower {FOLLOWERS} has no cache after the fan-out"))?;
    anyhow::ensure!(
        !page.entries.is_empty(),
        "follower {FOLLOWERS}'s cache is empty"
    );
    Ok((times, landed))
}

async fn activate(cache: &impl FeedCache, followers: &[u64]) -> anyhow::Result<()> {
    let mut setups = futures::stream::iter(followers.iter().copied().map(|user| async move {
        cache.begin_rebuild(user).await?;
        cache.finish_rebuild(user, &[], true).await
    }))
    .buffer_unordered(SETUP_IN_FLIGHT);
    while let Some(done) = setups.next().await {
        done?;
    }
    Ok(())
}

/// One post to every follower, batch by batch, as the worker does it.
async fn fan_out(
    cache: &impl FeedCache,
    followers: &[u64],
    entry: FeedEntry,
) -> anyhow::Result<usize> {
    let mut landed = 0;
    for batch in followers.chunks(BATCH) {
        landed += cache.push(batch, entry).await?;
    }
    Ok(landed)
}

async fn fan_out_posts(
    cache: &impl FeedCache,
    followers: &[u64],
    posts: usize,
    first_post_id: u64,
) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(posts);
    for post in 0..posts {
        let entry = FeedEntry::new(first_post_id + post as u64, 999_999_999);
        let started = Instant::now();
        let landed = fan_out(cache, followers, entry).await?;
        times.push(started.elapsed());
        anyhow::ensure!(
            landed == followers.len(),
            "post {post} reached {landed} caches, expected {}",
            followers.len()
        );
    }
    Ok(times)
}

/// `redis-benchmark` pipelined ZADD (1 000 per pipeline) on 10 000 random keys; requests/s.
fn redis_benchmark(host: &str, port: &str, key: &str, clients: usize) -> Option<f64> {
    let clients = clients.to_string();
    let args = [
        "-h",
        host,
        "-p",
        port,
        "-q",
        "-n",
        "200000",
        "-P",
        "1000",
        "-r",
        "10000",
        "-c",
        &clients,
        "zadd",
        key,
        "__rand_int__",
        "member:__rand_int__",
    ];
    println!("raw: redis-benchmark {}", args.join(" "));
    let output = match Command::new("redis-benchmark").args(args).output() {
        Ok(output) => output,
        Err(error) => {
            eprintln!("raw: cannot run redis-benchmark: {error}");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    // `-q` prints e.g. "zadd ...: 1234567.00 requests per second, p50=0.999 msec" after
    // carriage-return progress lines.
    let line = text
        .split(['\r', '\n'])
        .rfind(|line| line.contains("requests per second"))?;
    println!("raw: {}", line.trim());
    let before = line.split(" requests per second").next()?;
    before.rsplit([' ', ':']).next()?.trim().parse().ok()
}

/// Deletes every key under `prefix` (SCAN, then DEL in batches) with redis-cli; how many.
fn cleanup(url: &str, prefix: &str) -> usize {
    let scan = Command::new("redis-cli")
        .args([
            "-u",
            url,
            "--scan",
            "--pattern",
            // No `--count`: redis-cli 7.0 rejects it (7.2 added it), and an empty scan
            // would leave the keys behind.
            &format!("{prefix}*"),
        ])
        .output();
    let keys: Vec<String> = match scan {
        Ok(output) => String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect(),
        Err(error) => {
            eprintln!("cleanup: cannot run redis-cli: {error}; keys under {prefix} remain");
            return 0;
        }
    };
    for chunk in keys.chunks(500) {
        let mut args = vec!["-u".to_owned(), url.to_owned(), "DEL".to_owned()];
        args.extend(chunk.iter().cloned());
        if let Err(error) = Command::new("redis-cli").args(&args).output() {
            eprintln!("cleanup: DEL failed: {error}");
        }
    }
    keys.len()
}

fn host_port(url: &str) -> (String, String) {
    let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    match authority.rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.to_owned()),
        None => (authority.to_owned(), "6379".to_owned()),
    }
}

fn percentile(times: &[Duration], p: f64) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}
