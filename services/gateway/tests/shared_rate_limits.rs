//! The rate-limit budgets on a real Redis: gateway replicas sharing a Redis share every budget;
//! a spent budget refuses with `Retry-After`; budget keys expire once whole again; a Redis that
//! cannot be reached degrades to counting per replica, never to no limit or to an error.

use actix_web::test::TestRequest;
use photoshare_config::Config;
use photoshare_gateway::rate_limit::RateLimits;
use photoshare_ids::UserId;
use photoshare_proto::ErrorCode;

/// A configuration whose budgets are all `per_minute`, in Redis at `redis_url`, under keys of
/// their own.
fn config(redis_url: String, per_minute: u32) -> Config {
    let mut config = Config::default();
    config.backends.redis_url = Some(redis_url);
    config.feed.redis_key_prefix = format!("{}:", photoshare_test_support::unique_name("rl"));
    config.gateway.auth_rate_limit_per_minute = per_minute;
    config.gateway.login_account_rate_limit_per_minute = per_minute;
    config.gateway.write_rate_limit_per_minute = per_minute;
    config
}

fn from(ip: &str) -> actix_web::HttpRequest {
    TestRequest::default()
        .peer_addr(format!("{ip}:50000").parse().unwrap())
        .to_http_request()
}

#[tokio::test]
async fn replicas_draw_on_one_write_budget() {
    let config = config(photoshare_test_support::require_redis().await, 3);
    let (one, two) = (
        RateLimits::from_config(&config),
        RateLimits::from_config(&config),
    );
    one.check_write(UserId(1)).await.unwrap();
    two.check_write(UserId(1)).await.unwrap();
    one.check_write(UserId(1)).await.unwrap();
    for replica in [&one, &two] {
        let refused = replica.check_write(UserId(1)).await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        // 3 a minute: the next one is free about 20 s after the first.
        let retry_after = refused.retry_after.expect("a Retry-After");
        assert!((1..=20).contains(&retry_after), "{retry_after}");
    }
    // Another account's budget is untouched.
    two.check_write(UserId(2)).await.unwrap();
}

#[tokio::test]
async fn login_budgets_span_addresses_and_replicas() {
    let config = config(photoshare_test_support::require_redis().await, 2);
    let (one, two) = (
        RateLimits::from_config(&config),
        RateLimits::from_config(&config),
    );
    // Per account: three addresses, two replicas, one budget.
    one.check_login(&from("10.0.0.1"), "Ann").await.unwrap();
    two.check_login(&from("10.0.0.2"), "ann").await.unwrap();
    let refused = one
        .check_login(&from("10.0.0.3"), " ANN ")
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::RateLimited);
    assert!(refused.detail.contains("account"), "{}", refused.detail);

    // Per address: one address, other accounts, two replicas.
    one.check_login(&from("10.0.0.9"), "bob").await.unwrap();
    two.check_login(&from("10.0.0.9"), "cat").await.unwrap();
    let refused = one.check_login(&from("10.0.0.9"), "dan").await.unwrap_err();
    assert!(refused.detail.contains("address"), "{}", refused.detail);
    // Sign-ups have their own address budget.
    two.check_signup(&from("10.0.0.9")).await.unwrap();
}

#[tokio::test]
async fn budget_keys_expire_once_whole_again() {
    let url = photoshare_test_support::require_redis().await;
    let config = config(url.clone(), 60);
    RateLimits::from_config(&config)
        .check_write(UserId(7))
        .await
        .unwrap();
    let key = format!(
        "{}ratelimit:{{writes:account:7}}",
        config.feed.redis_key_prefix
    );
    let mut connection = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .unwrap();
    // One request of 60 a minute is whole again a second later.
    assert!((1..=1000).contains(&ttl_ms), "{key}: {ttl_ms}");
}

#[tokio::test]
async fn an_unreachable_redis_still_limits_each_replica() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = config(format!("redis://{closed}"), 2);
    let limits = RateLimits::from_config(&config);
    limits.check_write(UserId(1)).await.unwrap();
    limits.check_write(UserId(1)).await.unwrap();
    let refused = limits.check_write(UserId(1)).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::RateLimited);
}
