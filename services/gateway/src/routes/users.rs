//! `/v1/me` and `/v1/users/{username}`.

use actix_web::{web, HttpResponse};
use photoshare_ids::UserId;
use photoshare_proto::users::v1 as pb;

use crate::authn::Caller;
use crate::body::Body;
use crate::clients::user_named;
use crate::models::{Me, Profile, UpdateMeBody};
use crate::problem::{ApiError, Problem};
use crate::routes::path_id::PathUsername;
use crate::state::AppState;
use crate::visibility;

/// The caller's own profile.
#[utoipa::path(get, path = "/v1/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, body = Me),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let user = state
        .users
        .clone()
        .get_user(pb::GetUserRequest {
            key: Some(pb::get_user_request::Key::Id(caller.user_id.get())),
        })
        .await
        .map_err(deleted_account_is_unauthorized)?
        .into_inner();
    me(&state, user).await
}

/// The answer of `/v1/me`: the caller's profile as they see it, with the email address.
async fn me(state: &AppState, user: pb::User) -> Result<HttpResponse, ApiError> {
    let profile = profile(state, UserId::from(user.id), &user).await?;
    Ok(HttpResponse::Ok().json(Me {
        profile,
        email: user.email,
    }))
}

/// `user`'s profile as `viewer` sees it: counts and relationship from the graph service, the
/// number of photos from the media service, asked at the same time.
async fn profile(state: &AppState, viewer: UserId, user: &pb::User) -> Result<Profile, ApiError> {
    let (graph, photos) = tokio::join!(
        visibility::relationships(state, viewer, vec![user.id]),
        photos_count(state, user.id)
    );
    let mut profile = Profile::from_user_and_graph(user, graph?.get(&user.id));
    profile.photos_count = photos?;
    Ok(profile)
}

/// The number of photos shown on a profile, from the media service.
async fn photos_count(state: &AppState, user_id: u64) -> Result<u64, ApiError> {
    let counts = state
        .media
        .clone()
        .count_photos(photoshare_proto::media::v1::CountPhotosRequest {
            author_ids: vec![user_id],
        })
        .await?
        .into_inner()
        .counts;
    Ok(counts.get(&user_id).copied().unwrap_or(0))
}

/// Change the caller's display name, bio or privacy. Absent fields stay as they are.
#[utoipa::path(patch, path = "/v1/me", tag = "users", security(("bearer" = [])), request_body = UpdateMeBody,
    responses(
        (status = 200, body = Me),
        (status = 400, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_me(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<UpdateMeBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let user = state
        .users
        .clone()
        .update_profile(pb::UpdateProfileRequest {
            user_id: caller.user_id.get(),
            display_name: body.display_name,
            bio: body.bio,
            is_private: body.is_private,
        })
        .await
        .map_err(deleted_account_is_unauthorized)?
        .into_inner();
    me(&state, user).await
}

/// Someone's profile.
#[utoipa::path(get, path = "/v1/users/{username}", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, description = "Case-insensitive")),
    responses(
        (status = 200, body = Profile),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_profile(
    state: web::Data<AppState>,
    caller: Caller,
    PathUsername(username): PathUsername,
) -> Result<HttpResponse, ApiError> {
    let user = user_named(&state.users, username).await?;
    Ok(HttpResponse::Ok().json(profile(&state, caller.user_id, &user).await?))
}

/// A valid token whose account no longer exists is no longer a valid identity.
fn deleted_account_is_unauthorized(status: tonic::Status) -> ApiError {
    match ApiError::from(status) {
        error if error.code == photoshare_proto::ErrorCode::NotFound => {
            ApiError::unauthorized("the account of this token no longer exists")
        }
        error => error,
    }
}
