//! Forged, expired and revoked access tokens, each sent to every authenticated operation of the
//! document: every one of them answers 401 `unauthorized`, and the genuine token still works.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use photoshare_auth::{AccessClaims, SigningKey};
use serde_json::{json, Value};

use crate::fixtures::{fill, operations};
use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(no_route_accepts_a_forged_or_revoked_token);

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The forgeries an attacker holding a genuine token (and the public JWKS) can make, and a
/// genuine but revoked token.
async fn forgeries(app: &TestApp, session: &Value) -> Vec<(&'static str, String)> {
    let key = SigningKey::from_pkcs8_pem(&std::fs::read_to_string(app.signing_key_path()).unwrap())
        .unwrap();
    let claims = AccessClaims {
        iss: app.config.auth.issuer.clone(),
        aud: app.config.auth.audience.clone(),
        sub: session["user"]["id"].as_str().unwrap().to_owned(),
        sid: "1".into(),
        iat: now(),
        nbf: now(),
        exp: now() + 600,
    };
    let b64 = |text: &str| URL_SAFE_NO_PAD.encode(text);
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": key.kid()}).to_string()),
        b64(&serde_json::to_string(&claims).unwrap())
    );
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = Some(key.kid().to_owned());
    let hs256_public_key = jsonwebtoken::encode(
        &hs_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(
            &URL_SAFE_NO_PAD.decode(key.public_jwk().x).unwrap(),
        ),
    )
    .unwrap();
    let genuine = token(session).to_owned();
    let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
    let mut tampered: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    tampered["sub"] = json!("1");
    parts[1] = b64(&tampered.to_string());
    let expired = key
        .sign(&AccessClaims {
            iat: now() - 3600,
            nbf: now() - 3600,
            exp: now() - 120,
            ..claims.clone()
        })
        .unwrap();
    let unknown_kid = SigningKey::generate().sign(&claims).unwrap();

    // A genuine token of a session that was logged out since.
    let other: Value = app
        .post(
            "/v1/auth/login",
            &json!({"login": session["user"]["username"], "password": PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    let logout = app
        .post_authed(
            "/v1/auth/logout",
            token(&other),
            &json!({"refresh_token": refresh_token(&other)}),
        )
        .await;
    assert_eq!(logout.status(), 204);
    let started = std::time::Instant::now();
    while app.get("/v1/me", token(&other)).await.status() != 401 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "logout never took effect"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    vec![
        ("alg none", alg_none),
        ("HS256 keyed with the public key", hs256_public_key),
        ("tampered claims", parts.join(".")),
        ("unknown kid", unknown_kid),
        ("expired", expired),
        ("revoked by logout", token(&other).to_owned()),
    ]
}

async fn no_route_accepts_a_forged_or_revoked_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signup("victor").await;
    let forgeries = forgeries(&app, &session).await;
    let secured: Vec<_> = operations(&app)
        .await
        .into_iter()
        .filter(|operation| operation.secured)
        .collect();
    assert!(secured.len() > 20);
    for operation in &secured {
        // Ids and usernames that exist nowhere: the token is refused before anything is looked up.
        let path = fill(&operation.path, "victor");
        for (case, forged) in &forgeries {
            let mut request = app
                .client
                .request(operation.method.clone(), app.url(&path))
                .bearer_auth(forged);
            if operation.body.is_some() {
                request = request.json(&json!({}));
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                401,
                "{case}: {} {}",
                operation.method,
                operation.path
            );
            operation.assert_documents(401);
            assert_problem(response, 401, "unauthorized").await;
        }
    }
    assert_eq!(app.get("/v1/me", token(&session)).await.status(), 200);
}
