//! `/v1/me` and `/v1/users/{username}`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(
    profile_updates_are_kept,
    invalid_profile_updates_change_nothing,
    others_see_a_profile_without_the_email,
);

async fn profile_updates_are_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signup("ivan").await;
    let response = app
        .patch(
            "/v1/me",
            token(&session),
            &json!({"display_name": "Ivan P.", "bio": "photos\nof cats", "is_private": true}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["display_name"], "Ivan P.");
    assert_eq!(me["bio"], "photos\nof cats");
    assert_eq!(me["is_private"], true);
    assert_eq!(me["email"], "ivan@example.com");

    // Absent fields stay as they are.
    let me: Value = app
        .patch("/v1/me", token(&session), &json!({"is_private": false}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["display_name"], "Ivan P.");
    assert_eq!(me["is_private"], false);
    let again: Value = app
        .get("/v1/me", token(&session))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, me);
}

async fn invalid_profile_updates_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signup("judy").await;
    let cases = [
        json!({"bio": "x".repeat(151)}),
        json!({"display_name": "x".repeat(65)}),
        json!({"display_name": "tab\there"}),
        json!({"is_private": "yes"}),
        json!({"username": "new_name"}),
        json!({"email": "new@example.com"}),
    ];
    for body in cases {
        assert_problem(
            app.patch("/v1/me", token(&session), &body).await,
            400,
            "validation_failed",
        )
        .await;
    }
    // A valid field next to an invalid one is not applied either.
    let mixed = json!({"display_name": "Judy", "bio": "x".repeat(151)});
    assert_problem(
        app.patch("/v1/me", token(&session), &mixed).await,
        400,
        "validation_failed",
    )
    .await;
    let me: Value = app
        .get("/v1/me", token(&session))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["display_name"], "judy");
    assert_eq!(me["bio"], "");
    assert_problem(
        app.client
            .patch(app.url("/v1/me"))
            .json(&json!({"bio": "x"}))
            .send()
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;
}

async fn others_see_a_profile_without_the_email(backend: Backend) {
    let app = spawn_app(backend).await;
    let kim = app.signup("kim").await;
    let leo = app.signup("leo").await;
    app.patch("/v1/me", token(&kim), &json!({"bio": "hello"}))
        .await;

    for path in ["/v1/users/kim", "/v1/users/KIM"] {
        let response = app.get(path, token(&leo)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let profile: Value = response.json().await.unwrap();
        assert_eq!(profile["id"], kim["user"]["id"]);
        assert_eq!(profile["bio"], "hello");
        assert!(profile.get("email").is_none(), "{profile}");
        for count in ["followers_count", "following_count", "photos_count"] {
            assert!(profile[count].is_u64(), "{count} in {profile}");
        }
        assert!(profile["relationship"]["following"].is_boolean());
    }
    assert_problem(
        app.get("/v1/users/nobody_here", token(&leo)).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.client
            .get(app.url("/v1/users/kim"))
            .send()
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;
}
