//! The claims inside an access token.

use photoshare_ids::{SessionId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id, as a decimal string (JWT subjects are strings).
    pub sub: String,
    /// The session (login) the token was issued for.
    pub sid: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
}

impl AccessClaims {
    pub fn user_id(&self) -> Option<UserId> {
        self.sub.parse().ok()
    }

    pub fn session_id(&self) -> Option<SessionId> {
        self.sid.parse().ok()
    }
}
