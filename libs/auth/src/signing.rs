//! The Ed25519 signing key: generated once, stored as PKCS#8 PEM, identified by a `kid` derived
//! from its public half so that verifiers can pick the right key during a rotation.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};

use crate::{pem, AccessClaims, JwkSet, PublicJwk};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key file holds no PKCS#8 `PRIVATE KEY` PEM block")]
    NotPem,
    #[error("the key is not an Ed25519 PKCS#8 key: {0}")]
    NotEd25519(String),
    #[error("cannot sign a token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

pub struct SigningKey {
    kid: String,
    pkcs8_der: Vec<u8>,
    public_key: Vec<u8>,
    encoding: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn generate() -> SigningKey {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .expect("the system random source works");
        SigningKey::from_pkcs8_der(pkcs8.as_ref().to_vec()).expect("a fresh key is valid")
    }

    pub fn from_pkcs8_pem(pem_text: &str) -> Result<SigningKey, KeyError> {
        let der = pem::decode(pem::PRIVATE_KEY_LABEL, pem_text).ok_or(KeyError::NotPem)?;
        SigningKey::from_pkcs8_der(der)
    }

    fn from_pkcs8_der(der: Vec<u8>) -> Result<SigningKey, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map_err(|error| KeyError::NotEd25519(error.to_string()))?;
        let public_key = pair.public_key().as_ref().to_vec();
        let digest = ring::digest::digest(&ring::digest::SHA256, &public_key);
        let kid = URL_SAFE_NO_PAD.encode(&digest.as_ref()[..12]);
        Ok(SigningKey {
            kid,
            encoding: EncodingKey::from_ed_der(&der),
            pkcs8_der: der,
            public_key,
        })
    }

    pub fn to_pkcs8_pem(&self) -> String {
        pem::encode(pem::PRIVATE_KEY_LABEL, &self.pkcs8_der)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn sign(&self, claims: &AccessClaims) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }

    pub fn public_jwk(&self) -> PublicJwk {
        PublicJwk {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            x: URL_SAFE_NO_PAD.encode(&self.public_key),
            kid: self.kid.clone(),
            alg: "EdDSA".to_owned(),
            use_: "sig".to_owned(),
        }
    }

    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.public_jwk()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_pem_storage_with_the_same_kid() {
        let key = SigningKey::generate();
        let reloaded = SigningKey::from_pkcs8_pem(&key.to_pkcs8_pem()).unwrap();
        assert_eq!(reloaded.kid(), key.kid());
        assert_eq!(reloaded.public_jwk(), key.public_jwk());
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(matches!(
            SigningKey::from_pkcs8_pem("hello"),
            Err(KeyError::NotPem)
        ));
        let not_a_key = pem::encode(pem::PRIVATE_KEY_LABEL, b"not a key");
        assert!(matches!(
            SigningKey::from_pkcs8_pem(&not_a_key),
            Err(KeyError::NotEd25519(_))
        ));
    }

    #[test]
    fn debug_output_hides_the_private_key() {
        let key = SigningKey::generate();
        let printed = format!("{key:?}");
        assert!(printed.contains(key.kid()));
        assert!(!printed.contains("pkcs8"));
    }
}
