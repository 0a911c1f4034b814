//! The OpenAPI 3 document, generated from the handlers and models, and an interactive page.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_scalar::{Scalar, Servable};

use crate::routes::Operations;

/// What the document says beyond its operations; [`RouteTable`] adds those, with every schema
/// they use, from the route table.
#[derive(OpenApi)]
#[openapi(
    info(title = "photoshare API", version = "1", description = "The REST API of the photoshare mobile app. Errors are application/problem+json with a stable `code`."),
    modifiers(&RouteTable, &BearerAuth, &SharedErrors),
    tags(
        (name = "auth", description = "Accounts and sessions"), (name = "feed", description = "The home feed"), (name = "users", description = "Profiles"),
        (name = "uploads", description = "Presigned uploads of image bytes to object storage"),
        (name = "photos", description = "Photos, their processing and profile grids"),
        (name = "graph", description = "Follows, follow requests, followers and following"),
        (name = "engagement", description = "Likes and comments"),
        (name = "ops", description = "Health, metrics and this document")
    ),
)]
pub struct ApiDoc;

/// Adds every operation of the route table, so the document describes exactly what is served.
struct RouteTable;

impl Modify for RouteTable {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(Operations::openapi());
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The error answers that whole classes of operations share, added to every operation that
/// can meet them (an operation's own description of a status is kept):
///
/// - 400 `validation_failed`: a body, query or header parameter to check;
/// - 413 `payload_too_large`, 415 `unsupported_media_type`: a JSON body;
/// - 401 `unauthorized`: an access token is required (missing, invalid, expired, revoked);
/// - 429 `rate_limited`: a write with an access token (the per-account write budget);
/// - 503 `unavailable`: every operation that calls a service, that is all but the ops ones.
struct SharedErrors;

impl Modify for SharedErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let reads = [&mut item.get];
            let writes = [
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for (operation, write) in reads
                .into_iter()
                .map(|op| (op, false))
                .chain(writes.into_iter().map(|op| (op, true)))
            {
                if let Some(operation) = operation.as_mut() {
                    add_shared_errors(operation, write);
                }
            }
        }
    }
}

fn add_shared_errors(operation: &mut Operation, write: bool) {
    let is_ops = operation
        .tags
        .as_ref()
        .is_some_and(|tags| tags.iter().any(|tag| tag == "ops"));
    if is_ops {
        return;
    }
    let secured = operation.security.is_some();
    let has_body = operation.request_body.is_some();
    let has_checked_parameters = operation.parameters.iter().flatten().any(|parameter| {
        matches!(
            parameter.parameter_in,
            ParameterIn::Query | ParameterIn::Header
        )
    });
    let mut shared: Vec<(&str, &str)> = Vec::new();
    if has_body || has_checked_parameters {
        shared.push(("400", "`validation_failed`: the request is not valid"));
    }
    if secured {
        shared.push((
            "401",
            "`unauthorized`: the access token is missing, invalid, expired or revoked",
        ));
    }
    if has_body {
        shared.push((
            "413",
            "`payload_too_large`: the body is larger than the limit",
        ));
        shared.push((
            "415",
            "`unsupported_media_type`: the body is not `application/json`",
        ));
    }
    if secured && write {
        shared.push((
            "429",
            "`rate_limited`: too many changes by this account; see `Retry-After`",
        ));
    }
    shared.push((
        "503",
        "`unavailable`: a backend service is unavailable, try again shortly",
    ));
    for (status, description) in shared {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem_response(description));
    }
}

/// An answer with a `Problem` body.
fn problem_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                crate::problem::PROBLEM_CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

/// The document, built once: it only changes with the code.
static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(&*DOCUMENT)
}

/// `/docs`: Scalar's API reference page over the same document.
pub fn scalar() -> Scalar<utoipa::openapi::OpenApi> {
    Scalar::with_url("/docs", DOCUMENT.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The photo routes and the schemas they answer with, as the app's client generator reads them.
    #[test]
    fn uploads_and_photos_are_documented() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for (path, method) in [
            ("/v1/uploads", "post"),
            ("/v1/photos", "post"),
            ("/v1/photos/{id}", "get"),
            ("/v1/photos/{id}", "patch"),
            ("/v1/photos/{id}", "delete"),
            ("/v1/users/{username}/photos", "get"),
        ] {
            assert!(
                document["paths"][path][method].is_object(),
                "{method} {path} missing"
            );
        }
        let schemas = &document["components"]["schemas"];
        for schema in ["Upload", "Photo", "PhotoPage", "Variant", "Placeholder"] {
            assert!(schemas[schema].is_object(), "{schema} missing");
        }
        assert_eq!(
            schemas["PhotoPage"]["required"],
            serde_json::json!(["items", "next_cursor"])
        );
    }

    /// The answers every operation can give are in the document, where the server can give them.
    #[test]
    fn shared_error_answers_are_documented_where_they_can_happen() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let responses = |path: &str, method: &str| {
            document["paths"][path][method]["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path}"))
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        let has = |path: &str, method: &str, status: &str| {
            responses(path, method).iter().any(|known| known == status)
        };
        for status in ["400", "401", "413", "415", "429", "503"] {
            assert!(has("/v1/photos/{id}/comments", "post", status), "{status}");
        }
        for status in ["400", "413", "415", "429", "503"] {
            assert!(has("/v1/auth/login", "post", status), "{status}");
        }
        assert!(
            has("/v1/auth/login", "post", "401"),
            "its own: a wrong password"
        );
        assert!(has("/v1/me", "get", "401") && has("/v1/me", "get", "503"));
        assert!(!has("/v1/me", "get", "400"), "nothing to validate");
        assert!(!has("/v1/me", "get", "429"), "reads are not limited");
        assert!(has("/v1/feed", "get", "400"), "list parameters");
        assert!(!has("/livez", "get", "503"));
        assert!(has("/metrics", "get", "403"));
        // Every operation but the ops ones may meet a service that is down.
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let ops = operation["tags"] == serde_json::json!(["ops"]);
                assert_eq!(
                    operation["responses"]["503"].is_object(),
                    !ops || path == "/readyz",
                    "{method} {path}"
                );
            }
        }
        let problem = &document["paths"]["/v1/me"]["get"]["responses"]["401"]["content"]
            ["application/problem+json"]["schema"]["$ref"];
        assert_eq!(problem, "#/components/schemas/Problem");
    }

    /// utoipa collects the schemas that the operations name; one it missed (a type named only
    /// through another's `value_type`, say) would leave the app's client with a dangling reference.
    #[test]
    fn every_reference_resolves() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut references = Vec::new();
        collect_references(&document, &mut references);
        assert!(references.len() > 20, "{references:?}");
        for reference in references {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {reference}"));
            assert!(
                document["components"]["schemas"][name].is_object(),
                "{reference} is not defined"
            );
        }
    }

    fn collect_references(value: &serde_json::Value, into: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(reference)) = map.get("$ref") {
                    into.push(reference.clone());
                }
                map.values()
                    .for_each(|value| collect_references(value, into));
            }
            serde_json::Value::Array(items) => {
                items
                    .iter()
                    .for_each(|value| collect_references(value, into));
            }
            _ => {}
        }
    }
}
