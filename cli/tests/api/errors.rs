//! Limits and failures: rate limits, body limits, unknown routes, a service that is down.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(
    login_and_signup_are_rate_limited,
    oversized_bodies_are_refused_before_reading
);

async fn login_and_signup_are_rate_limited(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.gateway.auth_rate_limit_per_minute = 3
    })
    .await;
    app.signup("olga").await;
    let wrong = json!({"login": "olga", "password": "wrong password"});
    for _ in 0..3 {
        assert_eq!(
            app.post("/v1/auth/login", &wrong).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = app
        .post(
            "/v1/auth/login",
            &json!({"login": "olga", "password": PASSWORD}),
        )
        .await;
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(limited, 429, "rate_limited").await;

    // Sign-up has its own budget: one used above, two left, then 429.
    app.signup("olga2").await;
    app.signup("olga3").await;
    let body = json!({"username": "olga4", "email": "olga4@example.com", "password": PASSWORD});
    assert_problem(
        app.post("/v1/auth/signup", &body).await,
        429,
        "rate_limited",
    )
    .await;
    // Calls that are not guesses are not limited.
    let session: serde_json::Value = app
        .post("/v1/auth/refresh", &json!({"refresh_token": "x"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session["code"], "unauthorized");
}

async fn oversized_bodies_are_refused_before_reading(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.gateway.body_limit_bytes = 4096).await;
    let body =
        json!({"username": "big", "email": "big@example.com", "password": "x".repeat(10_000)});
    assert_problem(
        app.post("/v1/auth/signup", &body).await,
        413,
        "payload_too_large",
    )
    .await;
    // Nothing was created.
    app.signup("big").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_problem(
        app.client.get(app.url("/v1/nothing")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.client.delete(app.url("/v1/me")).send().await.unwrap(),
        405,
        "method_not_allowed",
    )
    .await;
}

/// The gateway alone, pointed at a users service that is not there: 503, never a hang or a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_service_is_unavailable_not_an_error() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = photoshare_config::Config::default();
    config.gateway.users_url = format!("http://{closed_port}");
    config.gateway.workers = Some(1);
    config.gateway.request_timeout_ms = 1000;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let gateway = tokio::spawn(photoshare_runtime::serve(
        &photoshare_gateway::SPEC,
        listener,
        config,
        photoshare_runtime::SharedBackends::default(),
        shutdown.clone(),
    ));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let signup = client
        .post(format!("{base}/v1/auth/signup"))
        .json(&json!({"username": "nobody", "email": "n@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_problem(signup, 503, "unavailable").await;
    let readyz = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(readyz.status(), StatusCode::SERVICE_UNAVAILABLE);
    let livez = client.get(format!("{base}/livez")).send().await.unwrap();
    assert_eq!(livez.status(), StatusCode::OK);
    let me = client
        .get(format!("{base}/v1/me"))
        .bearer_auth("a.b.c")
        .send()
        .await
        .unwrap();
    assert!(
        me.status() == StatusCode::UNAUTHORIZED || me.status() == StatusCode::SERVICE_UNAVAILABLE
    );

    shutdown.cancel();
    gateway.await.unwrap().unwrap();
}
