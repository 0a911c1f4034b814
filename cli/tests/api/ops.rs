//! Health, metrics and the API description.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_endpoints_answer() {
    let app = spawn_app(Backend::Sqlite).await;
    for path in ["/livez", "/readyz"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_record_request_latency_by_route_pattern() {
    let app = spawn_app(Backend::Sqlite).await;
    let session = app.signup("nina").await;
    app.get("/v1/users/nina", token(&session)).await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("photoshare_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains(r#"route="/v1/users/{username}""#), "{text}");
    assert!(
        !text.contains("route=\"/v1/users/nina\""),
        "raw paths must not become series"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_a_request_id() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/livez"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    for hostile in ["has space", "quote\"inside", &"x".repeat(200)] {
        let response = app
            .client
            .get(app.url("/livez"))
            .header("x-request-id", hostile)
            .send()
            .await
            .unwrap();
        let generated = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(generated.len(), 16, "{hostile:?} was kept as {generated}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_every_route_of_the_api() {
    let app = spawn_app(Backend::Sqlite).await;
    let document: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let expected = [
        ("/v1/auth/signup", "post"),
        ("/v1/auth/login", "post"),
        ("/v1/auth/refresh", "post"),
        ("/v1/auth/logout", "post"),
        ("/.well-known/jwks.json", "get"),
        ("/v1/me", "get"),
        ("/v1/me", "patch"),
        ("/v1/users/{username}", "get"),
        ("/v1/uploads", "post"),
        ("/v1/photos", "post"),
        ("/v1/photos/{id}", "get"),
        ("/v1/photos/{id}", "patch"),
        ("/v1/photos/{id}", "delete"),
        ("/v1/users/{username}/photos", "get"),
        ("/v1/users/{username}/follow", "post"),
        ("/v1/users/{username}/follow", "delete"),
        ("/v1/users/{username}/followers", "get"),
        ("/v1/users/{username}/following", "get"),
        ("/v1/me/follow-requests", "get"),
        ("/v1/me/follow-requests/{username}/approve", "post"),
        ("/v1/me/follow-requests/{username}/deny", "post"),
        ("/v1/photos/{id}/like", "put"),
        ("/v1/photos/{id}/like", "delete"),
        ("/v1/photos/{id}/likes", "get"),
        ("/v1/photos/{id}/comments", "post"),
        ("/v1/photos/{id}/comments", "get"),
        ("/v1/comments/{id}", "delete"),
    ];
    for (path, method) in expected {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path} missing"
        );
    }
    assert!(document["components"]["schemas"]["Problem"].is_object());
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());

    let docs = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("<html"));
}
