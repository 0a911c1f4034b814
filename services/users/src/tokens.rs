//! Refresh tokens: 256 random bits, handed out once and stored only as a SHA-256 digest, so a
//! copy of the database cannot be replayed as sessions.

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
}
