//! Insecure direct object references: a stranger reaching for other people's photos, comments,
//! uploads and follow requests by their ids and names. What they may see answers 403; what they
//! may not see answers 404, exactly as if it did not exist (API.md).

use serde_json::json;

use crate::fixtures::{ready_photo, upload};
use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(strangers_reach_nothing_of_others);

async fn status(response: reqwest::Response) -> u16 {
    response.status().as_u16()
}

async fn strangers_reach_nothing_of_others(backend: Backend) {
    let app = spawn_app(backend).await;
    let open = app.signup("open").await;
    let closed = app.signup("closed").await;
    let mallory = app.signup("mallory").await;
    let bob = app.signup("bob").await;
    let (open, closed, mallory, bob) = (token(&open), token(&closed), token(&mallory), token(&bob));
    assert_eq!(
        status(
            app.patch("/v1/me", closed, &json!({"is_private": true}))
                .await
        )
        .await,
        200
    );
    let public_photo = ready_photo(&app, open).await;
    let private_photo = ready_photo(&app, closed).await;
    let comment_on = |photo: &str, token: &str| {
        let path = format!("/v1/photos/{photo}/comments");
        let token = token.to_owned();
        let app = &app;
        async move {
            let response = app
                .post_authed(&path, &token, &json!({"text": "mine"}))
                .await;
            assert_eq!(response.status(), 201, "{path}");
            let comment: serde_json::Value = response.json().await.unwrap();
            comment["id"].as_str().unwrap().to_owned()
        }
    };
    let public_comment = comment_on(&public_photo, open).await;
    let private_comment = comment_on(&private_photo, closed).await;
    let others_upload = upload(&app, open).await;

    // A public account's photo: seen, so refusals say 403.
    let photo = format!("/v1/photos/{public_photo}");
    assert_problem(
        app.patch(&photo, mallory, &json!({"caption": "pwned"}))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(app.delete(&photo, mallory).await, 403, "forbidden").await;
    assert_problem(
        app.delete(&format!("/v1/comments/{public_comment}"), mallory)
            .await,
        403,
        "forbidden",
    )
    .await;

    // A private account's photo, comment and lists: not seen, so they do not exist.
    let photo = format!("/v1/photos/{private_photo}");
    for response in [
        app.get(&photo, mallory).await,
        app.patch(&photo, mallory, &json!({"caption": "pwned"}))
            .await,
        app.delete(&photo, mallory).await,
        app.put(&format!("{photo}/like"), mallory).await,
        app.get(&format!("{photo}/likes"), mallory).await,
        app.get(&format!("{photo}/comments"), mallory).await,
        app.post_authed(
            &format!("{photo}/comments"),
            mallory,
            &json!({"text": "hi"}),
        )
        .await,
        app.delete(&format!("/v1/comments/{private_comment}"), mallory)
            .await,
    ] {
        let url = response.url().clone();
        assert_eq!(response.status(), 404, "{url}");
        assert_problem(response, 404, "not_found").await;
    }
    for list in ["photos", "followers", "following"] {
        assert_problem(
            app.get(&format!("/v1/users/closed/{list}"), mallory).await,
            403,
            "private_account",
        )
        .await;
    }

    // Someone else's upload cannot become the stranger's photo.
    assert_problem(
        app.post_authed("/v1/photos", mallory, &json!({"upload_id": others_upload}))
            .await,
        404,
        "not_found",
    )
    .await;

    // A follow request to someone else cannot be approved by the stranger.
    let requested = app
        .post_authed("/v1/users/closed/follow", bob, &json!({}))
        .await;
    assert_eq!(requested.status(), 200);
    for decision in ["approve", "deny"] {
        assert_problem(
            app.post_authed(
                &format!("/v1/me/follow-requests/bob/{decision}"),
                mallory,
                &json!({}),
            )
            .await,
            404,
            "not_found",
        )
        .await;
    }
    let pending: serde_json::Value = app
        .get("/v1/me/follow-requests", closed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["items"][0]["username"], "bob", "{pending}");
    assert_eq!(
        status(
            app.post_authed("/v1/me/follow-requests/bob/approve", closed, &json!({}))
                .await
        )
        .await,
        204
    );
    // Approved, the follower sees what the stranger still cannot.
    assert_eq!(status(app.get(&photo, bob).await).await, 200);
    assert_eq!(status(app.get(&photo, mallory).await).await, 404);
}
