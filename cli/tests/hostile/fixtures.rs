//! Things the probes need to exist: a processed photo, an upload, and the operations of the
//! OpenAPI document the gateway serves.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::TestApp;

/// A small JPEG of the shared test corpus.
fn jpeg() -> Vec<u8> {
    let path = std::env::var_os("PHOTOSHARE_TEST_IMAGES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/testdata/images").into()
        })
        .join("skimage_rocket.jpg");
    std::fs::read(&path)
        .unwrap_or_else(|error| panic!("{}: {error} (set PHOTOSHARE_TEST_IMAGES)", path.display()))
}

/// An upload of the caller's, its bytes PUT to storage; returns its id.
pub async fn upload(app: &TestApp, token: &str) -> String {
    let bytes = jpeg();
    let ticket: Value = app
        .post_authed(
            "/v1/uploads",
            token,
            &json!({"content_type": "image/jpeg", "content_length": bytes.len()}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut put = app.client.put(ticket["url"].as_str().unwrap());
    for (name, value) in ticket["headers"].as_object().unwrap() {
        if !name.eq_ignore_ascii_case("content-length") {
            put = put.header(name, value.as_str().unwrap());
        }
    }
    assert_eq!(put.body(bytes).send().await.unwrap().status(), 200);
    ticket["upload_id"].as_str().unwrap().to_owned()
}

/// A photo of the caller's, processed; returns its id.
pub async fn ready_photo(app: &TestApp, token: &str) -> String {
    let upload_id = upload(app, token).await;
    let photo: Value = app
        .post_authed("/v1/photos", token, &json!({"upload_id": upload_id}))
        .await
        .json()
        .await
        .unwrap();
    let id = photo["id"].as_str().expect("a photo").to_owned();
    let started = Instant::now();
    loop {
        let photo: Value = app
            .get(&format!("/v1/photos/{id}"), token)
            .await
            .json()
            .await
            .unwrap();
        match photo["status"].as_str() {
            Some("ready") => return id,
            Some("processing") => {}
            other => panic!("photo {id} ended {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "photo {id} stuck"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One operation of the document.
pub struct Operation {
    pub method: reqwest::Method,
    /// As documented, e.g. `/v1/photos/{id}`.
    pub path: String,
    pub secured: bool,
    /// The request body's schema, its `$ref`s resolved one level.
    pub body: Option<Value>,
    pub has_list_params: bool,
    /// The statuses it documents.
    pub documented: Vec<u16>,
}

impl Operation {
    /// Fails unless the document lists `status` for this operation: what the server sends is
    /// what the app's generated client expects.
    pub fn assert_documents(&self, status: u16) {
        assert!(
            self.documented.contains(&status),
            "{} {} answered {status}, which its documentation does not list ({:?})",
            self.method,
            self.path,
            self.documented
        );
    }
}

/// Every operation of the OpenAPI document the gateway serves.
pub async fn operations(app: &TestApp) -> Vec<Operation> {
    let document: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_ascii_uppercase().parse::<reqwest::Method>() else {
                continue;
            };
            let body = operation["requestBody"]["content"]["application/json"]["schema"]
                .get("$ref")
                .and_then(Value::as_str)
                .map(|reference| resolve(&document, reference));
            let has_list_params = operation["parameters"]
                .as_array()
                .is_some_and(|parameters| {
                    parameters
                        .iter()
                        .any(|parameter| parameter["name"] == "cursor")
                });
            let documented = operation["responses"]
                .as_object()
                .map(|responses| {
                    responses
                        .keys()
                        .filter_map(|status| status.parse().ok())
                        .collect()
                })
                .unwrap_or_default();
            operations.push(Operation {
                method,
                path: path.clone(),
                secured: operation.get("security").is_some(),
                body,
                has_list_params,
                documented,
            });
        }
    }
    assert!(operations.len() > 25, "{} operations", operations.len());
    operations
}

fn resolve(document: &Value, reference: &str) -> Value {
    let name = reference
        .strip_prefix("#/components/schemas/")
        .unwrap_or_else(|| panic!("unexpected reference {reference}"));
    document["components"]["schemas"][name].clone()
}

/// `/v1/photos/{id}` with every `{placeholder}` replaced by `value`.
pub fn fill(path: &str, value: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                value
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
