//! Who is calling: the `Authorization: Bearer` access token, verified with the public keys the
//! users service publishes. The keys are fetched over gRPC and cached; a token naming an unknown
//! key triggers one refetch (at most every few seconds), which is how a key rotation reaches
//! the gateway without a restart. A token whose session or account was revoked is refused
//! (the `revocation` denylist), and the caller's writes draw on their rate-limit budget.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use photoshare_auth::{JwkSet, TokenVerifier};
use photoshare_ids::{SessionId, UserId};
use photoshare_proto::users::v1::GetJwksRequest;

use crate::clients::Users;
use crate::problem::ApiError;
use crate::state::AppState;

/// Refetches for unknown keys are spaced at least this far apart, so forged `kid`s cannot
/// turn the gateway into a load generator against the users service.
const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(5);

pub struct KeyCache {
    users: Users,
    issuer: String,
    audience: String,
    current: RwLock<Option<Loaded>>,
    last_fetch: Mutex<Option<Instant>>,
}

#[derive(Clone)]
struct Loaded {
    verifier: Arc<TokenVerifier>,
    jwks_json: Arc<str>,
}

impl KeyCache {
    pub fn new(users: Users, issuer: String, audience: String) -> KeyCache {
        KeyCache {
            users,
            issuer,
            audience,
            current: RwLock::new(None),
            last_fetch: Mutex::new(None),
        }
    }

    /// Fetches the JWKS from the users service and replaces the cached keys.
    pub async fn fetch(&self) -> Result<(), tonic::Status> {
        *self.last_fetch.lock().expect("lock poisoned") = Some(Instant::now());
        let json = self
            .users
            .clone()
            .get_jwks(GetJwksRequest {})
            .await?
            .into_inner()
            .json;
        let jwks: JwkSet = serde_json::from_str(&json).map_err(|error| {
            tonic::Status::internal(format!("the users service sent a bad JWKS: {error}"))
        })?;
        let loaded = Loaded {
            verifier: Arc::new(TokenVerifier::new(&jwks, &self.issuer, &self.audience)),
            jwks_json: Arc::from(json),
        };
        *self.current.write().expect("lock poisoned") = Some(loaded);
        Ok(())
    }

    fn loaded(&self) -> Option<Loaded> {
        self.current.read().expect("lock poisoned").clone()
    }

    /// The JWKS document, fetching it first if it was never loaded.
    pub async fn jwks_json(&self) -> Result<Arc<str>, ApiError> {
        if let Some(loaded) = self.loaded() {
            return Ok(loaded.jwks_json);
        }
        self.fetch().await?;
        self.loaded()
            .map(|loaded| loaded.jwks_json)
            .ok_or_else(|| ApiError::from(tonic::Status::unavailable("no keys")))
    }

    fn may_refetch(&self) -> bool {
        let last = *self.last_fetch.lock().expect("lock poisoned");
        last.is_none_or(|at| at.elapsed() >= MIN_REFETCH_INTERVAL)
    }

    /// Verifies a bearer token, refetching keys once if it names a key we do not know.
    pub async fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let kid = TokenVerifier::key_id_of(token);
        let known = self.loaded().is_some_and(|loaded| {
            kid.as_deref()
                .is_some_and(|kid| loaded.verifier.knows_key(kid))
        });
        if !known && kid.is_some() && self.may_refetch() {
            self.fetch().await?;
        }
        let loaded = self
            .loaded()
            .ok_or_else(|| ApiError::from(tonic::Status::unavailable("no keys")))?;
        let claims = loaded.verifier.verify(token).map_err(|error| {
            tracing::info!(reason = %error, "access token refused");
            ApiError::unauthorized("the access token is invalid or expired")
        })?;
        let (Some(user_id), Some(session_id)) = (claims.user_id(), claims.session_id()) else {
            return Err(ApiError::unauthorized("bad subject"));
        };
        Ok(Caller {
            user_id,
            session_id,
            issued_at: claims.iat,
        })
    }
}

/// An authenticated caller. Taking it as a handler argument makes the route require a token
/// whose session and account are not revoked; on a write (POST, PUT, PATCH, DELETE) it also
/// counts against the caller's write budget.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user_id: UserId,
    /// The login (`sid`) the token was issued for.
    pub session_id: SessionId,
    /// `iat`, Unix seconds.
    pub issued_at: u64,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(request);
        let is_write = is_write(request.method());
        Box::pin(async move {
            let state = state.expect("AppState is registered");
            let token = token.ok_or_else(|| {
                ApiError::unauthorized("send `Authorization: Bearer <access_token>`")
            })?;
            let caller = state.keys.verify(&token).await?;
            if let Some(refusal) =
                state
                    .revocations
                    .refuses(caller.user_id, caller.session_id, caller.issued_at)
            {
                tracing::info!(?refusal, "revoked access token refused");
                return Err(ApiError::unauthorized(
                    "the access token was revoked: log in again",
                ));
            }
            if is_write {
                state.rate_limits.check_write(caller.user_id).await?;
            }
            Ok(caller)
        })
    }
}

/// Requests that change something, which the write budget counts.
fn is_write(method: &Method) -> bool {
    [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
}

fn bearer_token(request: &HttpRequest) -> Option<String> {
    let value = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}
