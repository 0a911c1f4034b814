//! Access tokens end with their session: after a logout or a refresh-token replay, the
//! session's access tokens are refused within seconds by every gateway (the dev app's own and a
//! second replica over the same services), while the account's other sessions go on; and a
//! restarted gateway still refuses them.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_both_backends;
use crate::replica::{eventually, Replica};

on_both_backends!(
    logout_revokes_access_tokens_on_every_gateway,
    a_replayed_refresh_token_revokes_the_access_tokens_of_its_login,
);

/// What the revocation list promises: every gateway refuses within a few poll intervals.
const WITHIN: Duration = Duration::from_secs(15);

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/v1/me", token).await.status().as_u16()
}

async fn me_status_on(replica: &Replica, token: &str) -> u16 {
    replica.get("/v1/me", token).await.status().as_u16()
}

async fn login(app: &TestApp, username: &str) -> Value {
    let response = app
        .post(
            "/v1/auth/login",
            &json!({"login": username, "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn logout_revokes_access_tokens_on_every_gateway(backend: Backend) {
    let app = spawn_app(backend).await;
    let replica = Replica::start(&app).await;
    let phone = app.signup("ines").await;
    let laptop = login(&app, "ines").await;
    for session in [&phone, &laptop] {
        assert_eq!(me_status(&app, token(session)).await, 200);
        assert_eq!(me_status_on(&replica, token(session)).await, 200);
    }

    let logout = app
        .post_authed(
            "/v1/auth/logout",
            token(&phone),
            &json!({"refresh_token": refresh_token(&phone)}),
        )
        .await;
    assert_eq!(logout.status(), 204);
    eventually(WITHIN, 401, || me_status(&app, token(&phone))).await;
    eventually(WITHIN, 401, || me_status_on(&replica, token(&phone))).await;
    let refused = app.get("/v1/me", token(&phone)).await;
    assert_problem(refused, 401, "unauthorized").await;
    // The other login of the same person is untouched, on both.
    assert_eq!(me_status(&app, token(&laptop)).await, 200);
    assert_eq!(me_status_on(&replica, token(&laptop)).await, 200);

    // A restarted gateway has read the revocations before it says it is ready.
    drop(replica);
    let app = app.restart().await;
    assert_eq!(me_status(&app, token(&phone)).await, 401);
    assert_eq!(me_status(&app, token(&laptop)).await, 200);
}

async fn a_replayed_refresh_token_revokes_the_access_tokens_of_its_login(backend: Backend) {
    let app = spawn_app(backend).await;
    let replica = Replica::start(&app).await;
    let first = app.signup("jon").await;
    let other = login(&app, "jon").await;
    let rotated: Value = app
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&first)}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me_status_on(&replica, token(&rotated)).await, 200);

    // Someone replays the rotated token: the login is presumed stolen.
    let replay = replica
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&first)}),
        )
        .await;
    assert_eq!(replay.status(), 401);
    for session in [&first, &rotated] {
        eventually(WITHIN, 401, || me_status(&app, token(session))).await;
        eventually(WITHIN, 401, || me_status_on(&replica, token(session))).await;
    }
    assert_eq!(me_status(&app, token(&other)).await, 200);
}
