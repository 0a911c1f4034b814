//! `/v1/auth/*` and the JWKS document.

use actix_web::http::header::ContentType;
use actix_web::{web, HttpRequest, HttpResponse};
use photoshare_proto::users::v1 as pb;

use crate::authn::Caller;
use crate::body::Body;
use crate::idempotency::idempotency_key;
use crate::models::{LoginBody, RefreshBody, Session, SignUpBody};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

fn session_response(
    status: actix_web::http::StatusCode,
    session: pb::Session,
) -> Result<HttpResponse, ApiError> {
    let session = Session::from_proto(session)
        .ok_or_else(|| ApiError::from(tonic::Status::internal("session without a user")))?;
    Ok(HttpResponse::build(status).json(session))
}

/// Create an account and log in.
///
/// With `Idempotency-Key`, a retry of the same sign-up (same key, username, email, password and
/// display name, within 24 hours) answers 201 with the same account and a *new* session: the
/// first answer's refresh token is never stored, so it cannot be answered again.
#[utoipa::path(post, path = "/v1/auth/signup", tag = "auth", request_body = SignUpBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Client-chosen, at most 200 characters; a retry of the same sign-up answers the same account with a new session")),
    responses(
        (status = 201, description = "Account created (or, for a retry with its Idempotency-Key, found again); session opened", body = Session),
        (status = 400, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`username_taken` or `email_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`idempotency_key_reused`: the key was used for this sign-up with another password or display name", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many sign-ups from this address", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`unavailable`, with `Retry-After` when the service is busy checking passwords", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn signup(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: Body<SignUpBody>,
) -> Result<HttpResponse, ApiError> {
    state.rate_limits.check_signup(&request).await?;
    let idempotency_key = idempotency_key(&request)?;
    let body = body.into_inner();
    let session = state
        .users
        .clone()
        .sign_up(pb::SignUpRequest {
            username: body.username,
            email: body.email,
            password: body.password,
            display_name: body.display_name,
            idempotency_key,
        })
        .await?
        .into_inner();
    session_response(actix_web::http::StatusCode::CREATED, session)
}

/// Log in with a username or email and a password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses(
        (status = 200, description = "Session opened", body = Session),
        (status = 400, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: wrong login or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many attempts from this address or at this account", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`unavailable`, with `Retry-After` when the service is busy checking passwords", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: Body<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    state.rate_limits.check_login(&request, &body.login).await?;
    let session = state
        .users
        .clone()
        .login(pb::LoginRequest {
            login: body.login,
            password: body.password,
        })
        .await?
        .into_inner();
    session_response(actix_web::http::StatusCode::OK, session)
}

/// Exchange a refresh token for a new session; the old refresh token stops working. Presenting
/// an already exchanged token again revokes the whole login.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses(
        (status = 200, description = "New tokens", body = Session),
        (status = 401, description = "`unauthorized`: unknown, expired, rotated or revoked token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Body<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let session = state
        .users
        .clone()
        .refresh(pb::RefreshRequest {
            refresh_token: body.into_inner().refresh_token,
        })
        .await?
        .into_inner();
    session_response(actix_web::http::StatusCode::OK, session)
}

/// End the login the refresh token belongs to. Its access tokens stop working too, on every
/// gateway within seconds.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshBody,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out (also when the token was already invalid)"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    state
        .users
        .clone()
        .logout(pb::LogoutRequest {
            user_id: caller.user_id.get(),
            refresh_token: body.into_inner().refresh_token,
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The public keys that verify access tokens (RFC 7517).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, description = "JWKS document", content_type = "application/json")))]
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let json = state.keys.jwks_json().await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .insert_header(("cache-control", "public, max-age=300"))
        .body(json.to_string()))
}
