//! The REST routes, one module per resource.

pub mod auth;
pub mod docs;
pub mod feed;
pub mod ops;
pub mod photos;
pub mod social;
pub mod uploads;
pub mod users;

use actix_web::web;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::scope("/v1/auth")
                .route("/signup", web::post().to(auth::signup))
                .route("/login", web::post().to(auth::login))
                .route("/refresh", web::post().to(auth::refresh))
                .route("/logout", web::post().to(auth::logout)),
        )
        .route("/.well-known/jwks.json", web::get().to(auth::jwks))
        .service(
            web::resource("/v1/me")
                .route(web::get().to(users::get_me))
                .route(web::patch().to(users::update_me)),
        )
        .route("/v1/users/{username}", web::get().to(users::get_profile))
        .route(
            "/v1/users/{username}/photos",
            web::get().to(photos::list_user_photos),
        )
        .route("/v1/uploads", web::post().to(uploads::create_upload))
        .route("/v1/photos", web::post().to(photos::create_photo))
        .service(
            web::resource("/v1/photos/{id}")
                .route(web::get().to(photos::get_photo))
                .route(web::patch().to(photos::update_photo))
                .route(web::delete().to(photos::delete_photo)),
        )
        .service(
            web::resource("/v1/users/{username}/follow")
                .route(web::post().to(social::follow))
                .route(web::delete().to(social::unfollow)),
        )
        .route(
            "/v1/users/{username}/followers",
            web::get().to(social::followers),
        )
        .route(
            "/v1/users/{username}/following",
            web::get().to(social::following),
        )
        .route(
            "/v1/me/follow-requests",
            web::get().to(social::follow_requests),
        )
        .route(
            "/v1/me/follow-requests/{username}/approve",
            web::post().to(social::approve),
        )
        .route(
            "/v1/me/follow-requests/{username}/deny",
            web::post().to(social::deny),
        )
        .service(
            web::resource("/v1/photos/{id}/like")
                .route(web::put().to(social::like))
                .route(web::delete().to(social::unlike)),
        )
        .route("/v1/photos/{id}/likes", web::get().to(social::likes))
        .service(
            web::resource("/v1/photos/{id}/comments")
                .route(web::post().to(social::comment))
                .route(web::get().to(social::comments)),
        )
        .route(
            "/v1/comments/{id}",
            web::delete().to(social::delete_comment),
        )
        .route("/v1/feed", web::get().to(feed::home_feed))
        .route("/livez", web::get().to(ops::livez))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/openapi.json", web::get().to(docs::openapi_json))
        .service(docs::scalar());
}
