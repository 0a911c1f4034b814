//! `Idempotency-Key` on the POST create calls that had none: a retry of a sign-up answers the
//! same account (with a new session), a retried comment is made once; the same key with
//! another body is 422 `idempotency_key_reused`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_both_backends;
use crate::photos::{post_photo, settled};

on_both_backends!(
    a_retried_signup_answers_the_same_account,
    a_retried_comment_is_made_once
);

async fn post_with_key(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(path))
        .header("idempotency-key", key)
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request sent")
}

async fn a_retried_signup_answers_the_same_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({"username": "kim", "email": "kim@example.com", "password": PASSWORD, "display_name": "Kim"});
    let first = post_with_key(&app, "/v1/auth/signup", None, "signup-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let retry = post_with_key(&app, "/v1/auth/signup", None, "signup-1", &body).await;
    assert_eq!(
        retry.status(),
        StatusCode::CREATED,
        "the first answer's status"
    );
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry["user"], first["user"], "the same account");
    assert_ne!(
        retry["refresh_token"], first["refresh_token"],
        "a new session: the first refresh token is stored nowhere"
    );
    for session in [&first, &retry] {
        assert_eq!(app.get("/v1/me", token(session)).await.status(), 200);
        let refreshed = app
            .post(
                "/v1/auth/refresh",
                &json!({"refresh_token": refresh_token(session)}),
            )
            .await;
        assert_eq!(refreshed.status(), 200);
    }

    let mut other_password = body.clone();
    other_password["password"] = json!("another long password");
    assert_problem(
        post_with_key(&app, "/v1/auth/signup", None, "signup-1", &other_password).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    // Without the key, or with a new one, it is another sign-up of a taken name.
    assert_problem(
        app.post("/v1/auth/signup", &body).await,
        409,
        "username_taken",
    )
    .await;
    assert_problem(
        post_with_key(&app, "/v1/auth/signup", None, "signup-2", &body).await,
        409,
        "username_taken",
    )
    .await;
}

async fn a_retried_comment_is_made_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let lena = app.signup("lena").await;
    let photo = post_photo(&app, token(&lena), "skimage_rocket.jpg", "image/jpeg", "").await;
    let id = photo["id"].as_str().unwrap().to_owned();
    settled(&app, token(&lena), &id).await;
    let path = format!("/v1/photos/{id}/comments");

    let body = json!({"text": "lovely\nshot"});
    let first = post_with_key(&app, &path, Some(token(&lena)), "c-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let retry = post_with_key(&app, &path, Some(token(&lena)), "c-1", &body).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first);
    assert_problem(
        post_with_key(
            &app,
            &path,
            Some(token(&lena)),
            "c-1",
            &json!({"text": "something else"}),
        )
        .await,
        422,
        "idempotency_key_reused",
    )
    .await;

    let comments: Value = app.get(&path, token(&lena)).await.json().await.unwrap();
    assert_eq!(comments["items"].as_array().unwrap().len(), 1, "{comments}");
    let seen: Value = app
        .get(&format!("/v1/photos/{id}"), token(&lena))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["comment_count"], 1);
}
