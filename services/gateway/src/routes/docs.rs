//! The OpenAPI 3 document, generated from the handlers and models, and an interactive page.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_scalar::{Scalar, Servable};

use crate::models;
use crate::problem::Problem;
use crate::routes::{auth, users};

#[derive(OpenApi)]
#[openapi(
    info(title = "photoshare API", version = "1", description = "The REST API of the photoshare mobile app. Errors are application/problem+json with a stable `code`."),
    paths(auth::signup, auth::login, auth::refresh, auth::logout, auth::jwks, users::get_me, users::update_me, users::get_profile),
    components(schemas(
        models::SignUpBody, models::LoginBody, models::RefreshBody, models::UpdateMeBody,
        models::Session, models::Me, models::Profile, models::Relationship, models::UserSummary, Problem
    )),
    modifiers(&BearerAuth),
    tags((name = "auth", description = "Accounts and sessions"), (name = "users", description = "Profiles")),
)]
pub struct ApiDoc;

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

pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

/// `/docs`: Scalar's API reference page over the same document.
pub fn scalar() -> Scalar<utoipa::openapi::OpenApi> {
    Scalar::with_url("/docs", ApiDoc::openapi())
}
