//! What every answer of the edge carries and who may read what at the edge: `nosniff` and
//! `no-store` headers, `/metrics` for operators only, and rate limits per account that every
//! gateway replica shares through Redis.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::replica::Replica;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_nosniff_and_not_stored() {
    let app = spawn_app(Backend::Sqlite).await;
    let session = app.signup("mona").await;
    let answers = [
        app.get("/v1/me", token(&session)).await,
        app.get("/v1/users/nobody", token(&session)).await,
        app.client.get(app.url("/v1/me")).send().await.unwrap(),
        app.client.get(app.url("/livez")).send().await.unwrap(),
    ];
    for answer in answers {
        let headers = answer.headers();
        assert_eq!(
            headers["x-content-type-options"],
            "nosniff",
            "{}",
            answer.url()
        );
        assert_eq!(headers["cache-control"], "no-store", "{}", answer.url());
    }
    // The public keys are meant to be cached.
    let jwks = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.headers()["x-content-type-options"], "nosniff");
    assert_eq!(jwks.headers()["cache-control"], "public, max-age=300");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_for_operators_only() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.gateway.metrics_token = Some("scrape-token".into());
    })
    .await;
    let scrape = |forwarded: bool, token: Option<&str>| {
        let mut request = app.client.get(app.url("/metrics"));
        if forwarded {
            request = request.header("x-forwarded-for", "203.0.113.7");
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap() }
    };
    // Straight from loopback, as an in-cluster Prometheus: allowed.
    assert_eq!(scrape(false, None).await.status(), StatusCode::OK);
    // Through a proxy, from the internet: refused, unless with the token.
    assert_problem(scrape(true, None).await, 403, "forbidden").await;
    assert_problem(scrape(true, Some("wrong")).await, 403, "forbidden").await;
    let with_token = scrape(true, Some("scrape-token")).await;
    assert_eq!(with_token.status(), StatusCode::OK);
    assert!(with_token
        .text()
        .await
        .unwrap()
        .contains("photoshare_request_duration_seconds"));
}

/// One gateway, many addresses: the account's login budget holds whatever address guesses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_guesses_are_limited_per_account_across_addresses() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.gateway.trust_forwarded_for = true;
        config.gateway.login_account_rate_limit_per_minute = 3;
    })
    .await;
    app.signup("nora").await;
    let guess = |address: usize| {
        app.client
            .post(app.url("/v1/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.{address}"))
            .json(&json!({"login": "NORA", "password": "not her password"}))
            .send()
    };
    for address in 1..=3 {
        assert_eq!(guess(address).await.unwrap().status(), 401);
    }
    let limited = guess(4).await.unwrap();
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "rate_limited").await;
    // Another account is not held back by it.
    let other = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("x-forwarded-for", "198.51.100.4")
        .json(&json!({"login": "someone", "password": "whatever it is"}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
}

/// Two gateways sharing one Redis share the budgets: a login budget per account and a write
/// budget per account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_replicas_share_the_budgets_through_redis() {
    let app = spawn_app_with(Backend::Postgres, |config| {
        config.gateway.login_account_rate_limit_per_minute = 3;
        config.gateway.write_rate_limit_per_minute = 4;
    })
    .await;
    assert!(app.config.backends.redis_url.is_some());
    let replica = Replica::start(&app).await;
    let session = app.signup("olivia").await;

    let wrong = json!({"login": "olivia", "password": "not her password"});
    assert_eq!(app.post("/v1/auth/login", &wrong).await.status(), 401);
    assert_eq!(replica.post("/v1/auth/login", &wrong).await.status(), 401);
    assert_eq!(app.post("/v1/auth/login", &wrong).await.status(), 401);
    assert_problem(
        replica.post("/v1/auth/login", &wrong).await,
        429,
        "rate_limited",
    )
    .await;

    let write = json!({"bio": "hello"});
    for _ in 0..2 {
        assert_eq!(
            app.patch("/v1/me", token(&session), &write).await.status(),
            200
        );
        assert_eq!(
            replica
                .patch("/v1/me", token(&session), &write)
                .await
                .status(),
            200
        );
    }
    assert_problem(
        app.patch("/v1/me", token(&session), &write).await,
        429,
        "rate_limited",
    )
    .await;
    // Reads are not writes.
    assert_eq!(app.get("/v1/me", token(&session)).await.status(), 200);
}
