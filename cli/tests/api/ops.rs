//! Health, metrics and the API description.

use std::collections::BTreeSet;

use photoshare_gateway::routes::ROUTES;
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

/// The router and the document are both made from one table (`routes::ROUTES`): every route in
/// it is documented with its method, and every documented operation is served, that is, the
/// router recognises its path (its pattern shows in the latency metrics) and its method (not 405).
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

    let mut table = BTreeSet::new();
    for route in ROUTES {
        for method in route.methods() {
            let method = method.as_str().to_ascii_lowercase();
            assert!(
                document["paths"][route.path()][&method].is_object(),
                "{method} {} is served but not documented",
                route.path()
            );
            table.insert((route.path(), method));
        }
    }
    let documented = documented_operations(&document);
    assert_eq!(documented, table);
    assert!(documented.contains(&("/v1/feed".to_owned(), "get".to_owned())));

    for (path, method) in &documented {
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), app.url(&with_placeholders_filled(path)))
            .send()
            .await
            .unwrap();
        assert_ne!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented but not served"
        );
    }
    // A path the router does not know is recorded as `unmatched`, never under its pattern.
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (path, method) in &documented {
        assert!(
            metrics.contains(&format!("route=\"{path}\"")),
            "{method} {path} is documented but not served"
        );
    }

    assert!(document["components"]["schemas"]["Problem"].is_object());
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());

    let docs = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("<html"));
}

/// `(path, method)` of every operation in an OpenAPI document, methods in lower case.
fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|key| METHODS.contains(&key.as_str()))
                .map(move |method| (path.clone(), method.clone()))
        })
        .collect()
}

/// `/v1/photos/{id}/like` → `/v1/photos/0/like`: a concrete path the route's pattern matches.
fn with_placeholders_filled(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "0"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
