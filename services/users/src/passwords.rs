//! Argon2id password hashes. Hashing is deliberately slow, so it runs on the blocking pool and
//! never stalls the async workers.

use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::UsersError;

/// Hashes with the crate's Argon2id defaults (OWASP's m=19 MiB, t=2, p=1).
pub async fn hash(password: String) -> Result<String, UsersError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| UsersError::Hashing(error.to_string()))
    })
    .await
    .map_err(|error| UsersError::Hashing(error.to_string()))?
}

/// Checks `password` against `stored`. With no stored hash (an unknown login) it verifies
/// against a dummy hash anyway, so the answer takes as long and reveals nothing.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, UsersError> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed =
            PasswordHash::new(&stored).map_err(|error| UsersError::Hashing(error.to_string()))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .map_err(|error| UsersError::Hashing(error.to_string()))?
}

static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"not anyone's password", &salt)
        .expect("hashing a constant works")
        .to_string()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify("correct horse".into(), Some(stored.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong horse".into(), Some(stored)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_login_never_verifies() {
        assert!(!verify("not anyone's password".into(), None).await.unwrap());
    }
}
