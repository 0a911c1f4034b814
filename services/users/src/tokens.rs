//! Refresh tokens: 256 random bits, handed out once and stored only as a SHA-256 digest, so a
//! copy of the database cannot be replayed as sessions. Sign-up Idempotency-Keys are likewise
//! kept only as a digest, of the key together with the account it creates.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

pub struct RefreshToken {
    pub secret: String,
    pub hash: String,
}

pub fn new_refresh_token() -> RefreshToken {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&secret);
    RefreshToken { secret, hash }
}

pub fn hash_refresh_token(secret: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// The digest that finds a sign-up by its Idempotency-Key: of the key, the normalised username
/// and the normalised email, each length-prefixed so that no two triples digest alike.
pub fn signup_key_scope(key: &str, username: &str, email_normalized: &str) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [key, username, email_normalized] {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part.as_bytes());
    }
    URL_SAFE_NO_PAD.encode(context.finish().as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_stored_only_as_digests() {
        let first = new_refresh_token();
        let second = new_refresh_token();
        assert_ne!(first.secret, second.secret);
        assert_ne!(first.hash, first.secret);
        assert_eq!(hash_refresh_token(&first.secret), first.hash);
        assert_eq!(first.secret.len(), 43);
    }

    #[test]
    fn a_signup_key_scope_depends_on_every_part() {
        let scope = signup_key_scope("k1", "ann", "ann@example.com");
        assert_eq!(scope, signup_key_scope("k1", "ann", "ann@example.com"));
        for other in [
            signup_key_scope("k2", "ann", "ann@example.com"),
            signup_key_scope("k1", "bob", "ann@example.com"),
            signup_key_scope("k1", "ann", "bob@example.com"),
            // Moving a character from one part to the next is another scope.
            signup_key_scope("k1a", "nn", "ann@example.com"),
        ] {
            assert_ne!(scope, other);
        }
    }
}
