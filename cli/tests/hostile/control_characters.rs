//! NUL and other control characters wherever a client can put a string: every string field of
//! every documented request body, every path segment, the list cursor. The operations and
//! their bodies are read from the OpenAPI document, so a new route is probed without anyone
//! adding it here. Bodies answer 400 `validation_failed` naming the field; paths answer 404 as
//! for anything that does not exist; nothing answers 5xx (on PostgreSQL, a NUL that reached a
//! query was a 500).

use serde_json::{json, Map, Value};

use crate::fixtures::{fill, operations, Operation};
use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(control_characters_are_refused_everywhere);

/// Control characters no field may hold: C0 (NUL first), DEL, C1, and a tab.
const HOSTILE: [&str; 5] = ["\0", "\u{1}", "\u{7f}", "\u{85}", "\t"];

/// The same, percent-encoded for a path segment, with a line feed and a byte that is no UTF-8.
const HOSTILE_SEGMENTS: [&str; 8] = [
    "%00",
    "a%00b",
    "victim%00",
    "%01",
    "%7F",
    "%C2%85",
    "a%0Ab",
    "%FF",
];

/// A value of the property's schema that passes the body's own checks, so that the hostile
/// field is the only thing wrong: its example if it has one.
fn sample(property: &Value) -> Value {
    if let Some(example) = property.get("example") {
        return example.clone();
    }
    let types: Vec<&str> = match &property["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.contains(&"string") {
        json!("sample")
    } else if types.contains(&"integer") || types.contains(&"number") {
        json!(1)
    } else if types.contains(&"boolean") {
        json!(false)
    } else {
        Value::Null
    }
}

fn is_string(property: &Value) -> bool {
    property["type"] == "string"
        || property["type"]
            .as_array()
            .is_some_and(|types| types.contains(&json!("string")))
}

/// One request per string field of the body and hostile character: the body with every
/// property set to a sample and that field holding the character.
fn hostile_bodies(schema: &Value) -> Vec<(String, Value)> {
    let properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let valid: Map<String, Value> = properties
        .iter()
        .map(|(name, property)| (name.clone(), sample(property)))
        .collect();
    let mut bodies = Vec::new();
    for (name, property) in &properties {
        if !is_string(property) {
            continue;
        }
        for hostile in HOSTILE {
            let mut body = valid.clone();
            body.insert(name.clone(), json!(format!("ok{hostile}ok")));
            bodies.push((name.clone(), Value::Object(body)));
        }
    }
    bodies
}

/// The path with placeholders that pass the path's own checks (an id of 0, a well-formed
/// username), so that what follows is what gets checked.
fn plausible(path: &str) -> String {
    fill(&path.replace("{id}", "0"), "probe")
}

async fn send(
    app: &TestApp,
    operation: &Operation,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(operation.method.clone(), app.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("request sent")
}

/// Asserts `response` is the problem `status`/`code` that `operation` documents, and never a
/// 5xx (said first, with `what` was sent); returns the problem.
async fn expect(
    operation: &Operation,
    response: reqwest::Response,
    what: &str,
    status: u16,
    code: &str,
) -> Value {
    assert!(
        response.status().as_u16() < 500,
        "{what}: {}",
        response.status()
    );
    operation.assert_documents(status);
    assert_problem(response, status, code).await
}

async fn control_characters_are_refused_everywhere(backend: Backend) {
    // Hundreds of probing writes in a minute: more than one account's write budget.
    let app = spawn_app_with(backend, |config| {
        config.gateway.write_rate_limit_per_minute = 100_000;
    })
    .await;
    let session = app.signup("probe").await;
    let token = token(&session);
    let operations = operations(&app).await;
    let mut probed_fields = 0;

    for operation in &operations {
        let path = plausible(&operation.path);
        if let Some(schema) = &operation.body {
            for (field, body) in hostile_bodies(schema) {
                let response = send(&app, operation, &path, token, Some(&body)).await;
                let what = format!(
                    "{} {} with {field} = {:?}",
                    operation.method, operation.path, body[&field]
                );
                let problem = expect(operation, response, &what, 400, "validation_failed").await;
                let detail = problem["detail"].as_str().unwrap();
                assert!(detail.contains(&field), "{what}: {detail}");
                probed_fields += 1;
            }
        }

        if operation.path.contains('{') {
            for segment in HOSTILE_SEGMENTS {
                let path = fill(&operation.path, segment);
                let body = operation.body.as_ref().map(|_| json!({}));
                let response = send(&app, operation, &path, token, body.as_ref()).await;
                let what = format!("{} {path}", operation.method);
                expect(operation, response, &what, 404, "not_found").await;
            }
        }

        if operation.has_list_params {
            let path = format!("{}?cursor=%00", plausible(&operation.path));
            let response = send(&app, operation, &path, token, None).await;
            let what = format!("{} {path}", operation.method);
            expect(operation, response, &what, 400, "validation_failed").await;
        }
    }
    // Sign-up, login, refresh, logout, profile, upload, photo (2), comment: at least these.
    assert!(probed_fields >= 12 * HOSTILE.len(), "{probed_fields}");

    // Nothing was stored on the way: the account reads as it was.
    let me = app.get("/v1/me", token).await;
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["bio"], "");
}
