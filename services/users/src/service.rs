//! The `photoshare.users.v1.Users` gRPC service: the rules of sign-up, login and sessions, on
//! top of the store. Every password hash and check goes through one bounded [`HashingPool`];
//! every revocation of a session is recorded for the gateways (`revocations`).

use photoshare_ids::unix_ms_now;
use std::sync::Arc;

use photoshare_auth::{AccessClaims, SigningKey};
use photoshare_config::AuthConfig;
use photoshare_ids::IdGenerator;
use photoshare_proto::users::v1 as pb;
use tonic::{Request, Response, Status};

use crate::domain::{normalize_login, parse_bio, parse_display_name, Email, Password, Username};
use crate::error::UsersError;
use crate::passwords::HashingPool;
use crate::revocations::{self, Lifetime, PurgeSchedule};
use crate::store::{
    EarlierSignup, NewRevocation, NewSession, NewSignupKey, NewUser, ProfileChange, Rotation,
    Store, UserRecord,
};
use crate::tokens::{hash_refresh_token, new_refresh_token, signup_key_scope};

/// Most users a batch lookup answers for at once.
pub const MAX_BATCH: usize = 200;

/// How long a sign-up's Idempotency-Key answers retries: a day, as the app's retries of one
/// attempt are minutes apart at most.
const SIGNUP_KEY_TTL_MS: i64 = 24 * 3600 * 1000;

pub struct UsersService {
    store: Store,
    signing_key: Arc<SigningKey>,
    ids: Arc<IdGenerator>,
    auth: AuthConfig,
    hashing: HashingPool,
    revocation_lifetime: Lifetime,
    purge: PurgeSchedule,
}

impl UsersService {
    pub fn new(
        store: Store,
        signing_key: Arc<SigningKey>,
        ids: Arc<IdGenerator>,
        auth: AuthConfig,
    ) -> Self {
        UsersService {
            store,
            signing_key,
            ids,
            hashing: HashingPool::new(auth.password_hash_concurrency, auth.password_hash_queue),
            revocation_lifetime: Lifetime::for_access_tokens(auth.access_token_ttl_secs),
            purge: PurgeSchedule::default(),
            auth,
        }
    }

    /// The id and times of a revocation recorded now.
    fn revocation_now(&self) -> NewRevocation {
        self.revocation_lifetime
            .stamp(self.ids.next_id(), unix_ms_now())
    }

    /// A new refresh token for `session_id` and an access token for `user`.
    fn issue(
        &self,
        user: &UserRecord,
        session_id: u64,
        refresh_secret: String,
    ) -> Result<pb::Session, UsersError> {
        let now = (unix_ms_now() / 1000) as u64;
        let claims = AccessClaims {
            iss: self.auth.issuer.clone(),
            aud: self.auth.audience.clone(),
            sub: user.id.to_string(),
            sid: session_id.to_string(),
            iat: now,
            nbf: now,
            exp: now + u64::from(self.auth.access_token_ttl_secs),
        };
        Ok(pb::Session {
            user: Some(to_proto(user)),
            access_token: self.signing_key.sign(&claims)?,
            refresh_token: refresh_secret,
            expires_in: self.auth.access_token_ttl_secs,
        })
    }

    fn refresh_expiry_ms(&self, now_ms: i64) -> i64 {
        now_ms.saturating_add((self.auth.refresh_token_ttl_secs as i64).saturating_mul(1000))
    }

    /// Creates the account and its first session. With an Idempotency-Key, a retry of the same
    /// sign-up (same key, username, email, password and display name) answers the same account
    /// with a new session: the first answer's refresh token exists nowhere any more.
    async fn sign_up(&self, request: pb::SignUpRequest) -> Result<pb::Session, UsersError> {
        let username = Username::parse(&request.username).map_err(UsersError::Invalid)?;
        let email = Email::parse(&request.email).map_err(UsersError::Invalid)?;
        let password = Password::parse(&request.password).map_err(UsersError::Invalid)?;
        let asked_display_name = request
            .display_name
            .as_deref()
            .map(parse_display_name)
            .transpose()
            .map_err(UsersError::Invalid)?;
        let scope = (!request.idempotency_key.is_empty()).then(|| {
            signup_key_scope(
                &request.idempotency_key,
                username.as_str(),
                email.normalized(),
            )
        });
        if let Some(scope) = &scope {
            if let Some(earlier) = self.store.signup_by_key(scope, unix_ms_now()).await? {
                return self
                    .sign_up_again(earlier, &password, asked_display_name)
                    .await;
            }
        }

        let display_name = asked_display_name
            .clone()
            .unwrap_or_else(|| username.as_str().to_owned());
        let password_hash = self.hashing.hash(password.expose().to_owned()).await?;
        let now_ms = unix_ms_now();
        let refresh = new_refresh_token();
        let session_id = self.ids.next_id();
        let key = scope.as_deref().map(|scope_hash| NewSignupKey {
            scope_hash,
            display_name: asked_display_name.as_deref(),
            expires_at_ms: now_ms + SIGNUP_KEY_TTL_MS,
        });
        let created = self
            .store
            .create_user_with_session(
                &NewUser {
                    id: self.ids.next_id(),
                    username: username.as_str(),
                    email: email.as_typed(),
                    email_normalized: email.normalized(),
                    password_hash: &password_hash,
                    display_name: &display_name,
                    now_ms,
                },
                &NewSession {
                    session_id,
                    token_hash: &refresh.hash,
                    expires_at_ms: self.refresh_expiry_ms(now_ms),
                },
                key.as_ref(),
            )
            .await;
        let user = match (created, &scope) {
            (Err(taken @ (UsersError::UsernameTaken | UsersError::EmailTaken)), Some(scope)) => {
                // Two tries of one sign-up raced, and the other one made the account.
                match self.store.signup_by_key(scope, unix_ms_now()).await? {
                    Some(earlier) => {
                        return self
                            .sign_up_again(earlier, &password, asked_display_name)
                            .await
                    }
                    None => return Err(taken),
                }
            }
            (created, _) => created?,
        };
        tracing::info!(user_id = user.id, "signed up");
        self.issue(&user, session_id, refresh.secret)
    }

    /// A retry of an earlier sign-up: the same account, a new session, if the retry carries
    /// what the first try did (the password is proven against the account's hash).
    async fn sign_up_again(
        &self,
        earlier: EarlierSignup,
        password: &Password,
        asked_display_name: Option<String>,
    ) -> Result<pb::Session, UsersError> {
        if earlier.display_name != asked_display_name {
            return Err(UsersError::IdempotencyKeyReused);
        }
        let same_password = self
            .hashing
            .verify(password.expose().to_owned(), Some(earlier.password_hash))
            .await?;
        if !same_password {
            return Err(UsersError::IdempotencyKeyReused);
        }
        tracing::info!(user_id = earlier.user.id, "sign-up retried");
        self.open_session(&earlier.user).await
    }

    async fn login(&self, request: pb::LoginRequest) -> Result<pb::Session, UsersError> {
        if request.password.len() > Password::MAX_BYTES {
            return Err(UsersError::BadCredentials);
        }
        let Some(login) = normalize_login(&request.login) else {
            return Err(UsersError::BadCredentials);
        };
        let found = self.store.credentials(&login).await?;
        let (user, stored_hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        let verified = self.hashing.verify(request.password, stored_hash).await?;
        let Some(user) = user.filter(|_| verified) else {
            return Err(UsersError::BadCredentials);
        };
        let session = self.open_session(&user).await?;
        tracing::info!(user_id = user.id, "logged in");
        Ok(session)
    }

    /// A new session of `user`, with its first refresh token and an access token.
    async fn open_session(&self, user: &UserRecord) -> Result<pb::Session, UsersError> {
        let now_ms = unix_ms_now();
        let refresh = new_refresh_token();
        let session_id = self.ids.next_id();
        self.store
            .open_session(
                user.id,
                &NewSession {
                    session_id,
                    token_hash: &refresh.hash,
                    expires_at_ms: self.refresh_expiry_ms(now_ms),
                },
                now_ms,
            )
            .await?;
        tracing::debug!(user_id = user.id, session_id, "session opened");
        self.issue(user, session_id, refresh.secret)
    }

    async fn refresh(&self, request: pb::RefreshRequest) -> Result<pb::Session, UsersError> {
        let presented = hash_refresh_token(&request.refresh_token);
        let next = new_refresh_token();
        let revocation = self.revocation_now();
        let rotation = self
            .store
            .rotate_refresh_token(
                &presented,
                &next.hash,
                self.refresh_expiry_ms(revocation.recorded_at_ms),
                &revocation,
            )
            .await?;
        match rotation {
            Rotation::Rotated {
                user_id,
                session_id,
            } => {
                let user = self
                    .store
                    .user_by_id(user_id)
                    .await?
                    .ok_or(UsersError::InvalidRefreshToken)?;
                self.issue(&user, session_id, next.secret)
            }
            Rotation::ReuseDetected { session_id } => {
                tracing::warn!(session_id, "refresh token re-used: session revoked");
                Err(UsersError::InvalidRefreshToken)
            }
            Rotation::Refused => Err(UsersError::InvalidRefreshToken),
        }
    }

    async fn update_profile(
        &self,
        request: pb::UpdateProfileRequest,
    ) -> Result<pb::User, UsersError> {
        let change = ProfileChange {
            display_name: request
                .display_name
                .as_deref()
                .map(parse_display_name)
                .transpose()
                .map_err(UsersError::Invalid)?,
            bio: request
                .bio
                .as_deref()
                .map(parse_bio)
                .transpose()
                .map_err(UsersError::Invalid)?,
            is_private: request.is_private,
        };
        let user = self
            .store
            .update_profile(request.user_id, &change, unix_ms_now())
            .await?
            .ok_or(UsersError::NotFound)?;
        Ok(to_proto(&user))
    }
}

#[tonic::async_trait]
impl pb::users_server::Users for UsersService {
    async fn sign_up(
        &self,
        request: Request<pb::SignUpRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        Ok(Response::new(
            UsersService::sign_up(self, request.into_inner()).await?,
        ))
    }

    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        Ok(Response::new(
            UsersService::login(self, request.into_inner()).await?,
        ))
    }

    async fn refresh(
        &self,
        request: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        Ok(Response::new(
            UsersService::refresh(self, request.into_inner()).await?,
        ))
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let request = request.into_inner();
        let hash = hash_refresh_token(&request.refresh_token);
        let revoked = self
            .store
            .revoke_session_of_token(request.user_id, &hash, &self.revocation_now())
            .await
            .map_err(Status::from)?;
        tracing::info!(user_id = request.user_id, revoked, "logout");
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let found = match request.into_inner().key {
            Some(pb::get_user_request::Key::Id(id)) => self.store.user_by_id(id).await,
            // What cannot be a username names nobody; it never reaches the database.
            Some(pb::get_user_request::Key::Username(name)) => match Username::parse(&name) {
                Ok(username) => self.store.user_by_username(username.as_str()).await,
                Err(_) => Ok(None),
            },
            None => Err(UsersError::Invalid(
                "an id or a username is required".into(),
            )),
        }?;
        let user = found.ok_or(UsersError::NotFound)?;
        Ok(Response::new(to_proto(&user)))
    }

    async fn update_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Result<Response<pb::User>, Status> {
        Ok(Response::new(
            UsersService::update_profile(self, request.into_inner()).await?,
        ))
    }

    async fn batch_get_users(
        &self,
        request: Request<pb::BatchGetUsersRequest>,
    ) -> Result<Response<pb::BatchGetUsersResponse>, Status> {
        let request = request.into_inner();
        if request.ids.len() + request.usernames.len() > MAX_BATCH {
            return Err(UsersError::Invalid(format!("at most {MAX_BATCH} users per batch")).into());
        }
        let usernames: Vec<String> = request
            .usernames
            .iter()
            .filter_map(|name| Username::parse(name).ok())
            .map(|username| username.as_str().to_owned())
            .collect();
        let users = self.store.users_batch(&request.ids, &usernames).await?;
        Ok(Response::new(pb::BatchGetUsersResponse {
            users: users.iter().map(to_proto).collect(),
        }))
    }

    async fn get_jwks(
        &self,
        _request: Request<pb::GetJwksRequest>,
    ) -> Result<Response<pb::Jwks>, Status> {
        let json = serde_json::to_string(&self.signing_key.jwks())
            .map_err(|error| Status::internal(error.to_string()))?;
        Ok(Response::new(pb::Jwks { json }))
    }

    async fn revocations_since(
        &self,
        request: Request<pb::RevocationsSinceRequest>,
    ) -> Result<Response<pb::RevocationsSinceResponse>, Status> {
        let request = request.into_inner();
        let now_ms = unix_ms_now();
        if self.purge.due(now_ms) {
            let purged = self.store.purge_expired(now_ms).await?;
            tracing::debug!(purged, "expired revocations and sign-up keys purged");
        }
        let limit = match request.limit {
            0 => revocations::MAX_PAGE,
            asked => asked.min(revocations::MAX_PAGE),
        };
        let records = self
            .store
            .revocations_since(
                request.after_recorded_at_ms,
                request.after_id,
                now_ms,
                limit,
            )
            .await?;
        Ok(Response::new(pb::RevocationsSinceResponse {
            revocations: records.into_iter().map(revocations::to_proto).collect(),
        }))
    }
}

fn to_proto(user: &UserRecord) -> pb::User {
    pb::User {
        id: user.id,
        username: user.username.clone(),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        bio: user.bio.clone(),
        is_private: user.is_private,
        created_at_ms: user.created_at_ms,
    }
}
