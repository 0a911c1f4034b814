//! The OpenAPI 3 document, generated from the handlers and models, and an interactive page.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_scalar::{Scalar, Servable};

use crate::routes::Operations;

/// What the document says beyond its operations; [`RouteTable`] adds those, with every schema
/// they use, from the route table.
#[derive(OpenApi)]
#[openapi(
    info(title = "photoshare API", version = "1", description = "The REST API of the photoshare mobile app. Errors are application/problem+json with a stable `code`."),
    modifiers(&RouteTable, &BearerAuth),
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
