//! Sign-up, login, refresh, logout: the auth rows of API.md.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(
    signup_opens_a_session,
    signup_refuses_invalid_accounts,
    usernames_and_emails_are_unique_regardless_of_case,
    login_accepts_username_or_email,
    login_refuses_wrong_credentials_alike,
    refresh_rotates_and_reuse_revokes_the_login,
    racing_refreshes_let_exactly_one_through,
    logout_ends_the_login,
    restart_keeps_accounts_and_sessions,
);

async fn signup_opens_a_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .post(
            "/v1/auth/signup",
            &json!({"username": "Ann.Lee", "email": "Ann@Example.com", "password": PASSWORD, "display_name": "Ann Lee"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let session: Value = response.json().await.unwrap();
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["expires_in"], 900);
    let user = &session["user"];
    assert!(
        user["id"].as_str().unwrap().parse::<u64>().is_ok(),
        "ids are strings: {user}"
    );
    assert_eq!(user["username"], "ann.lee");
    assert_eq!(user["email"], "Ann@Example.com");
    assert_eq!(user["display_name"], "Ann Lee");
    assert_eq!(user["is_private"], false);
    assert_eq!(
        user["relationship"],
        json!({"following": false, "followed_by": false, "requested": false})
    );

    let me: Value = app
        .get("/v1/me", token(&session))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me, *user);
}

async fn signup_refuses_invalid_accounts(backend: Backend) {
    let app = spawn_app(backend).await;
    let valid = json!({"username": "valid_name", "email": "v@example.com", "password": PASSWORD});
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    let cases = [
        ("short username", with("username", json!("ab"))),
        ("long username", with("username", json!("a".repeat(31)))),
        ("username with a space", with("username", json!("ann lee"))),
        ("username with a dash", with("username", json!("ann-lee"))),
        ("email without @", with("email", json!("ann.example.com"))),
        ("email without a domain", with("email", json!("ann@"))),
        ("short password", with("password", json!("1234567"))),
        (
            "display name too long",
            with("display_name", json!("x".repeat(65))),
        ),
        ("unknown field", with("is_admin", json!(true))),
        ("wrong type", with("username", json!(42))),
        (
            "missing field",
            json!({"username": "valid_name", "password": PASSWORD}),
        ),
        ("not an object", json!(["valid_name"])),
    ];
    for (case, body) in cases {
        let problem = assert_problem(
            app.post("/v1/auth/signup", &body).await,
            400,
            "validation_failed",
        )
        .await;
        assert!(!problem["detail"].as_str().unwrap().is_empty(), "{case}");
    }
    let malformed = app
        .client
        .post(app.url("/v1/auth/signup"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, 400, "validation_failed").await;
    let not_json = app
        .client
        .post(app.url("/v1/auth/signup"))
        .header("content-type", "text/plain")
        .body("username=x")
        .send()
        .await
        .unwrap();
    assert_problem(not_json, 415, "unsupported_media_type").await;

    // Nothing was half-created: the valid account can still be made.
    assert_eq!(
        app.post("/v1/auth/signup", &valid).await.status(),
        StatusCode::CREATED
    );
}

async fn usernames_and_emails_are_unique_regardless_of_case(backend: Backend) {
    let app = spawn_app(backend).await;
    app.signup("taken").await;
    let same_name =
        json!({"username": "TAKEN", "email": "other@example.com", "password": PASSWORD});
    assert_problem(
        app.post("/v1/auth/signup", &same_name).await,
        409,
        "username_taken",
    )
    .await;
    let same_email =
        json!({"username": "other", "email": "Taken@EXAMPLE.com", "password": PASSWORD});
    assert_problem(
        app.post("/v1/auth/signup", &same_email).await,
        409,
        "email_taken",
    )
    .await;
    // The refused attempts created nothing: "other" is still free.
    app.signup("other").await;
}

async fn login_accepts_username_or_email(backend: Backend) {
    let app = spawn_app(backend).await;
    let signed_up = app.signup("bob").await;
    for login in ["bob", "BOB", "bob@example.com", "Bob@Example.COM"] {
        let response = app
            .post(
                "/v1/auth/login",
                &json!({"login": login, "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "login as {login}");
        let session: Value = response.json().await.unwrap();
        assert_eq!(session["user"]["id"], signed_up["user"]["id"]);
        assert_ne!(session["refresh_token"], signed_up["refresh_token"]);
        let me = app.get("/v1/me", token(&session)).await;
        assert_eq!(me.status(), StatusCode::OK);
    }
}

async fn login_refuses_wrong_credentials_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    app.signup("carol").await;
    let wrong_password = assert_problem(
        app.post(
            "/v1/auth/login",
            &json!({"login": "carol", "password": "not the password"}),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    let unknown_user = assert_problem(
        app.post(
            "/v1/auth/login",
            &json!({"login": "nobody", "password": PASSWORD}),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    // The answer does not tell which accounts exist.
    assert_eq!(wrong_password["detail"], unknown_user["detail"]);
    assert_problem(
        app.post("/v1/auth/login", &json!({"login": "carol"})).await,
        400,
        "validation_failed",
    )
    .await;
}

async fn refresh_rotates_and_reuse_revokes_the_login(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.signup("dave").await;
    let other_login: Value = app
        .post(
            "/v1/auth/login",
            &json!({"login": "dave", "password": PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();

    let response = app
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&first)}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Value = response.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["user"]["username"], "dave");
    assert_eq!(
        app.get("/v1/me", token(&second)).await.status(),
        StatusCode::OK
    );

    // Replaying the rotated token: refused, and the whole login is revoked...
    assert_problem(
        app.post(
            "/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&first)}),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        app.post(
            "/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&second)}),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    // ...but not the other login of the same person.
    let response = app
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&other_login)}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    assert_problem(
        app.post("/v1/auth/refresh", &json!({"refresh_token": "made-up"}))
            .await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        app.post("/v1/auth/refresh", &json!({})).await,
        400,
        "validation_failed",
    )
    .await;
}

async fn racing_refreshes_let_exactly_one_through(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signup("erin").await;
    let body = json!({"refresh_token": refresh_token(&session)});
    let attempts = (0..6).map(|_| app.post("/v1/auth/refresh", &body));
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|response| response.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 401).count(),
        5,
        "{statuses:?}"
    );
}

async fn logout_ends_the_login(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signup("frank").await;
    let body = json!({"refresh_token": refresh_token(&session)});
    assert_problem(
        app.post("/v1/auth/logout", &body).await,
        401,
        "unauthorized",
    )
    .await;
    let response = app
        .post_authed("/v1/auth/logout", token(&session), &body)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.post("/v1/auth/refresh", &body).await,
        401,
        "unauthorized",
    )
    .await;
    // Logging out twice is harmless.
    let again = app
        .post_authed("/v1/auth/logout", token(&session), &body)
        .await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);

    // Someone else's refresh token cannot be logged out by another account.
    let victim = app.signup("grace").await;
    let response = app
        .post_authed(
            "/v1/auth/logout",
            token(&session),
            &json!({"refresh_token": refresh_token(&victim)}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let still_works = app
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&victim)}),
        )
        .await;
    assert_eq!(still_works.status(), StatusCode::OK);
}

async fn restart_keeps_accounts_and_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signup("heidi").await;
    let app = app.restart().await;
    // The access token still verifies: the signing key was kept.
    let me = app.get("/v1/me", token(&session)).await;
    assert_eq!(me.status(), StatusCode::OK);
    // The refresh token still works: sessions were kept.
    let refreshed = app
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": refresh_token(&session)}),
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    // And the account can log in.
    let login = app
        .post(
            "/v1/auth/login",
            &json!({"login": "heidi", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
}
