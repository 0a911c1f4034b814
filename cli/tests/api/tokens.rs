//! Access tokens as the gateway sees them: the JWKS document, and forged tokens refused.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use photoshare_auth::{AccessClaims, JwkSet, SigningKey, TokenVerifier};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(jwks_verifies_issued_tokens, forged_tokens_are_refused);

async fn jwks_verifies_issued_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signup("mallory").await;
    let response = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let jwks: JwkSet = response.json().await.unwrap();
    assert_eq!(jwks.keys.len(), 1);
    let key = &jwks.keys[0];
    assert_eq!(
        (key.kty.as_str(), key.crv.as_str(), key.alg.as_str()),
        ("OKP", "Ed25519", "EdDSA")
    );
    assert!(!key.x.is_empty());
    assert_eq!(
        TokenVerifier::key_id_of(token(&session)).as_deref(),
        Some(key.kid.as_str())
    );
    // Anyone holding only the JWKS can verify the token.
    let claims = TokenVerifier::new(&jwks, &app.config.auth.issuer, &app.config.auth.audience)
        .verify(token(&session))
        .unwrap();
    assert_eq!(claims.sub, session["user"]["id"].as_str().unwrap());
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn forged_tokens_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signup("victor").await;
    let genuine = token(&session).to_owned();
    let key = SigningKey::from_pkcs8_pem(&std::fs::read_to_string(app.signing_key_path()).unwrap())
        .unwrap();
    let user_id = session["user"]["id"].as_str().unwrap().to_owned();
    let claims = AccessClaims {
        iss: app.config.auth.issuer.clone(),
        aud: app.config.auth.audience.clone(),
        sub: user_id.clone(),
        sid: "1".into(),
        iat: now(),
        nbf: now(),
        exp: now() + 600,
    };
    // Sanity: our own signature over these claims is accepted, so the refusals below are
    // about what was changed, not about the test's claims.
    assert_eq!(
        app.get("/v1/me", &key.sign(&claims).unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    let b64 = |text: &str| URL_SAFE_NO_PAD.encode(text);
    let payload = serde_json::to_string(&claims).unwrap();
    let alg_none = format!(
        "{}.{}.",
        b64(&format!(
            r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#,
            key.kid()
        )),
        b64(&payload)
    );

    let public_x = key.public_jwk().x;
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = Some(key.kid().to_owned());
    let hs256_with_public_key = jsonwebtoken::encode(
        &hs_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&URL_SAFE_NO_PAD.decode(&public_x).unwrap()),
    )
    .unwrap();

    let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
    let mut tampered_claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    tampered_claims["exp"] = (now() + 86_400 * 365).into();
    parts[1] = b64(&tampered_claims.to_string());
    let tampered = parts.join(".");

    let expired = key
        .sign(&AccessClaims {
            iat: now() - 3600,
            nbf: now() - 3600,
            exp: now() - 120,
            ..claims.clone()
        })
        .unwrap();
    let not_yet_valid = key
        .sign(&AccessClaims {
            nbf: now() + 600,
            exp: now() + 1200,
            ..claims.clone()
        })
        .unwrap();
    let wrong_issuer = key
        .sign(&AccessClaims {
            iss: "someone-else".into(),
            ..claims.clone()
        })
        .unwrap();
    let wrong_audience = key
        .sign(&AccessClaims {
            aud: "another-app".into(),
            ..claims.clone()
        })
        .unwrap();
    let foreign_key = SigningKey::generate().sign(&claims).unwrap();

    let forgeries = [
        ("alg none", alg_none),
        ("HS256 keyed with the public key", hs256_with_public_key),
        ("tampered payload", tampered),
        ("expired", expired),
        ("not yet valid", not_yet_valid),
        ("wrong issuer", wrong_issuer),
        ("wrong audience", wrong_audience),
        ("signed by another key", foreign_key),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (case, forged) in forgeries {
        let response = app.get("/v1/me", &forged).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        assert_problem(response, 401, "unauthorized").await;
    }
    let wrong_scheme = app
        .client
        .get(app.url("/v1/me"))
        .header("authorization", format!("Basic {genuine}"))
        .send()
        .await
        .unwrap();
    assert_problem(wrong_scheme, 401, "unauthorized").await;
    // The genuine token still works after all that.
    assert_eq!(app.get("/v1/me", &genuine).await.status(), StatusCode::OK);
}
