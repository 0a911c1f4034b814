//! The `photoshare.users.v1.Users` gRPC service: the rules of sign-up, login and sessions, on
//! top of the store.

use photoshare_ids::unix_ms_now;
use std::sync::Arc;

use photoshare_auth::{AccessClaims, SigningKey};
use photoshare_config::AuthConfig;
use photoshare_ids::IdGenerator;
use photoshare_proto::users::v1 as pb;
use tonic::{Request, Response, Status};

use crate::domain::{parse_bio, parse_display_name, Email, Password, Username};
use crate::error::UsersError;
use crate::passwords;
use crate::store::{NewSession, NewUser, ProfileChange, Rotation, Store, UserRecord};
use crate::tokens::{hash_refresh_token, new_refresh_token};

/// Most users a batch lookup answers for at once.
pub const MAX_BATCH: usize = 200;

pub struct UsersService {
    store: Store,
    signing_key: Arc<SigningKey>,
    ids: Arc<IdGenerator>,
    auth: AuthConfig,
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
            auth,
        }
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

    async fn sign_up(&self, request: pb::SignUpRequest) -> Result<pb::Session, UsersError> {
        let username = Username::parse(&request.username).map_err(UsersError::Invalid)?;
        let email = Email::parse(&request.email).map_err(UsersError::Invalid)?;
        let password = Password::parse(&request.password).map_err(UsersError::Invalid)?;
        let display_name = match request.display_name.as_deref() {
            Some(name) => parse_display_name(name).map_err(UsersError::Invalid)?,
            None => username.as_str().to_owned(),
        };
        let password_hash = passwords::hash(password.expose().to_owned()).await?;
        let now_ms = unix_ms_now();
        let refresh = new_refresh_token();
        let session_id = self.ids.next_id();
        let user = self
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
            )
            .await?;
        tracing::info!(user_id = user.id, "signed up");
        self.issue(&user, session_id, refresh.secret)
    }

    async fn login(&self, request: pb::LoginRequest) -> Result<pb::Session, UsersError> {
        if request.login.is_empty() || request.password.len() > Password::MAX_BYTES {
            return Err(UsersError::BadCredentials);
        }
        let login = request.login.trim().to_lowercase();
        let found = self.store.credentials(&login).await?;
        let (user, stored_hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        let verified = passwords::verify(request.password, stored_hash).await?;
        let Some(user) = user.filter(|_| verified) else {
            return Err(UsersError::BadCredentials);
        };
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
        tracing::info!(user_id = user.id, session_id, "logged in");
        self.issue(&user, session_id, refresh.secret)
    }

    async fn refresh(&self, request: pb::RefreshRequest) -> Result<pb::Session, UsersError> {
        let presented = hash_refresh_token(&request.refresh_token);
        let next = new_refresh_token();
        let now_ms = unix_ms_now();
        let rotation = self
            .store
            .rotate_refresh_token(
                &presented,
                &next.hash,
                self.refresh_expiry_ms(now_ms),
                now_ms,
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
            .revoke_session_of_token(request.user_id, &hash, unix_ms_now())
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
            Some(pb::get_user_request::Key::Username(name)) => {
                self.store
                    .user_by_username(&name.to_ascii_lowercase())
                    .await
            }
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
            .map(|n| n.to_ascii_lowercase())
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
