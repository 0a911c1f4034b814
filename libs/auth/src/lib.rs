//! Access tokens for photoshare: short-lived JWTs signed with Ed25519 by the users service and
//! verified everywhere else with public keys only, published as a JWKS document.
//!
//! The verifier accepts exactly one algorithm (EdDSA), so `alg: none` and "HS256 keyed with the
//! public key" tricks fail before any signature is looked at. This crate never sees passwords or
//! refresh tokens; those are the users service's business.

mod claims;
mod jwks;
mod pem;
mod signing;
mod verify;

pub use claims::AccessClaims;
pub use jwks::{JwkSet, PublicJwk};
pub use signing::{KeyError, SigningKey};
pub use verify::{TokenError, TokenVerifier, LEEWAY_SECS};
