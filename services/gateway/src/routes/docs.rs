//! The OpenAPI 3 document, generated from the handlers and models, and an interactive page.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_scalar::{Scalar, Servable};

use crate::models;
use crate::problem::Problem;
use crate::routes::{auth, feed, photos, social, uploads, users};

#[derive(OpenApi)]
#[openapi(
    info(title = "photoshare API", version = "1", description = "The REST API of the photoshare mobile app. Errors are application/problem+json with a stable `code`."),
    paths(
        auth::signup, auth::login, auth::refresh, auth::logout, auth::jwks, users::get_me, users::update_me, users::get_profile,
        uploads::create_upload, photos::create_photo, photos::get_photo, photos::update_photo, photos::delete_photo, photos::list_user_photos, feed::home_feed,
        social::follow, social::unfollow, social::followers, social::following, social::follow_requests, social::approve, social::deny,
        social::like, social::unlike, social::likes, social::comment, social::comments, social::delete_comment
    ),
    components(schemas(
        models::SignUpBody, models::LoginBody, models::RefreshBody, models::UpdateMeBody,
        models::Session, models::Me, models::Profile, models::Relationship, models::UserSummary, Problem,
        models::CreateUploadBody, models::Upload, models::CreatePhotoBody, models::UpdatePhotoBody,
        models::Photo, models::PhotoStatus, models::Placeholder, models::Variant, models::PhotoPage,
        models::FollowAnswer, models::UserPage, models::CommentBody, models::Comment, models::CommentPage
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and sessions"), (name = "feed", description = "The home feed"), (name = "users", description = "Profiles"),
        (name = "uploads", description = "Presigned uploads of image bytes to object storage"),
        (name = "photos", description = "Photos, their processing and profile grids"),
        (name = "graph", description = "Follows, follow requests, followers and following"),
        (name = "engagement", description = "Likes and comments")
    ),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A handler left out of `paths(...)` is served but undocumented; nothing else notices.
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
}
