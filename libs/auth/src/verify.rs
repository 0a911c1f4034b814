//! Verification of access tokens with the public keys of a JWKS document.

use std::collections::HashMap;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::{AccessClaims, JwkSet};

/// Clock skew tolerated between the signer and the verifier: a token verifies up to this long
/// after its `exp` (and before its `nbf`).
pub const LEEWAY_SECS: u64 = 30;

/// Why a token was refused. Callers answer every variant with 401; the variant is for logs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is not signed with EdDSA")]
    WrongAlgorithm,
    #[error("the token names no key or an unknown key")]
    UnknownKey,
    #[error("the signature does not match")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued by someone else")]
    WrongIssuer,
    #[error("the token is meant for someone else")]
    WrongAudience,
    #[error("the token lacks a required claim or has a malformed one")]
    BadClaims,
}

/// Verifies tokens against a fixed set of public keys (rebuild it when the JWKS changes).
pub struct TokenVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl TokenVerifier {
    pub fn new(jwks: &JwkSet, issuer: &str, audience: &str) -> TokenVerifier {
        let keys = jwks
            .keys
            .iter()
            .filter(|jwk| jwk.kty == "OKP" && jwk.crv == "Ed25519")
            .filter_map(|jwk| {
                let key = DecodingKey::from_ed_components(&jwk.x).ok()?;
                Some((jwk.kid.clone(), key))
            })
            .collect();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.algorithms = vec![Algorithm::EdDSA];
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        TokenVerifier { keys, validation }
    }

    pub fn knows_key(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    /// The `kid` a token claims to be signed with, if its header parses.
    pub fn key_id_of(token: &str) -> Option<String> {
        jsonwebtoken::decode_header(token).ok()?.kid
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|error| match error.kind() {
            // `alg: none` and unknown algorithms fail to parse as a header at all.
            ErrorKind::Json(_) => TokenError::WrongAlgorithm,
            _ => TokenError::Malformed,
        })?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::WrongAlgorithm);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or(TokenError::UnknownKey)?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation)
            .map_err(|error| classify(error.kind()))?;
        if data.claims.user_id().is_none() || data.claims.session_id().is_none() {
            return Err(TokenError::BadClaims);
        }
        Ok(data.claims)
    }
}

fn classify(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => TokenError::WrongAlgorithm,
        ErrorKind::MissingRequiredClaim(_) | ErrorKind::Json(_) => TokenError::BadClaims,
        _ => TokenError::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use jsonwebtoken::{EncodingKey, Header};

    use super::*;
    use crate::SigningKey;

    const ISSUER: &str = "photoshare";
    const AUDIENCE: &str = "photoshare-app";

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn claims() -> AccessClaims {
        let now = now();
        AccessClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: "1234".into(),
            sid: "99".into(),
            iat: now,
            nbf: now,
            exp: now + 900,
        }
    }

    fn setup() -> (SigningKey, TokenVerifier) {
        let key = SigningKey::generate();
        let verifier = TokenVerifier::new(&key.jwks(), ISSUER, AUDIENCE);
        (key, verifier)
    }

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn a_genuine_token_verifies() {
        let (key, verifier) = setup();
        let token = key.sign(&claims()).unwrap();
        let verified = verifier.verify(&token).unwrap();
        assert_eq!(verified, claims_with_times(&verified));
        assert_eq!(verified.user_id().unwrap().0, 1234);
    }

    fn claims_with_times(verified: &AccessClaims) -> AccessClaims {
        AccessClaims {
            iat: verified.iat,
            nbf: verified.nbf,
            exp: verified.exp,
            ..claims()
        }
    }

    #[test]
    fn alg_none_is_refused() {
        let (key, verifier) = setup();
        let header = format!(r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#, key.kid());
        let payload = serde_json::to_string(&claims()).unwrap();
        let token = format!("{}.{}.", b64(&header), b64(&payload));
        assert_eq!(verifier.verify(&token), Err(TokenError::WrongAlgorithm));
    }

    #[test]
    fn hs256_keyed_with_the_public_key_is_refused() {
        let (key, verifier) = setup();
        let jwk = key.public_jwk();
        for secret in [
            jwk.x.as_bytes().to_vec(),
            URL_SAFE_NO_PAD.decode(&jwk.x).unwrap(),
        ] {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(key.kid().to_owned());
            let token =
                jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&secret))
                    .unwrap();
            assert_eq!(verifier.verify(&token), Err(TokenError::WrongAlgorithm));
        }
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let (key, verifier) = setup();
        let token = key.sign(&claims()).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64(&serde_json::to_string(&AccessClaims {
            sub: "1".into(),
            ..claims()
        })
        .unwrap());
        parts[1] = &forged;
        assert_eq!(
            verifier.verify(&parts.join(".")),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn a_token_signed_by_another_key_under_our_kid_is_refused() {
        let (key, verifier) = setup();
        let impostor = SigningKey::generate();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid().to_owned());
        let token = jsonwebtoken::encode(
            &header,
            &claims(),
            &EncodingKey::from_ed_pem(impostor.to_pkcs8_pem().as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(verifier.verify(&token), Err(TokenError::BadSignature));
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let (_, verifier) = setup();
        let token = SigningKey::generate().sign(&claims()).unwrap();
        assert_eq!(verifier.verify(&token), Err(TokenError::UnknownKey));
    }

    #[test]
    fn expired_and_not_yet_valid_tokens_are_refused() {
        let (key, verifier) = setup();
        let now = now();
        let expired = AccessClaims {
            iat: now - 1000,
            nbf: now - 1000,
            exp: now - 120,
            ..claims()
        };
        assert_eq!(
            verifier.verify(&key.sign(&expired).unwrap()),
            Err(TokenError::Expired)
        );
        let early = AccessClaims {
            nbf: now + 600,
            exp: now + 1200,
            ..claims()
        };
        assert_eq!(
            verifier.verify(&key.sign(&early).unwrap()),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn wrong_issuer_or_audience_is_refused() {
        let (key, verifier) = setup();
        let other_issuer = AccessClaims {
            iss: "evil".into(),
            ..claims()
        };
        assert_eq!(
            verifier.verify(&key.sign(&other_issuer).unwrap()),
            Err(TokenError::WrongIssuer)
        );
        let other_audience = AccessClaims {
            aud: "other-app".into(),
            ..claims()
        };
        assert_eq!(
            verifier.verify(&key.sign(&other_audience).unwrap()),
            Err(TokenError::WrongAudience)
        );
    }

    #[test]
    fn a_subject_that_is_not_a_user_id_is_refused() {
        let (key, verifier) = setup();
        let odd = AccessClaims {
            sub: "admin".into(),
            ..claims()
        };
        assert_eq!(
            verifier.verify(&key.sign(&odd).unwrap()),
            Err(TokenError::BadClaims)
        );
    }

    #[test]
    fn garbage_is_malformed() {
        let (_, verifier) = setup();
        for token in ["", "abc", "a.b.c", "....."] {
            assert!(verifier.verify(token).is_err(), "{token:?} accepted");
        }
    }
}
