//! Who is calling: the `Authorization: Bearer` access token, verified with the public keys the
//! users service publishes. The keys are fetched over gRPC and cached; a token naming an unknown
//! key triggers one refetch (at most every few seconds), which is how a key rotation reaches
//! the gateway without a restart.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use actix_web::{web, FromRequest, HttpRequest};
use photoshare_auth::{JwkSet, TokenVerifier};
use photoshare_ids::UserId;
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
        let user_id = claims
            .user_id()
            .ok_or_else(|| ApiError::unauthorized("bad subject"))?;
        Ok(Caller { user_id })
    }
}

/// An authenticated caller. Taking it as a handler argument makes the route require a token.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user_id: UserId,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(request);
        Box::pin(async move {
            let state = state.expect("AppState is registered");
            let token = token.ok_or_else(|| {
                ApiError::unauthorized("send `Authorization: Bearer <access_token>`")
            })?;
            state.keys.verify(&token).await
        })
    }
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
