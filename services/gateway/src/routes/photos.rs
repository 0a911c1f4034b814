//! `/v1/photos` and `/v1/users/{username}/photos`. The media service decides what the caller may
//! see and change (private accounts, owners); these handlers check the shape of the request,
//! call it, and give every answer its authors through `hydrate`.

use actix_web::{web, HttpResponse};
use photoshare_ids::PhotoId;
use photoshare_proto::media::v1 as pb;

use crate::authn::Caller;
use crate::body::Body;
use crate::clients::user_named;
use crate::hydrate;
use crate::models::{CreatePhotoBody, ListParams, Photo, PhotoPage, UpdatePhotoBody};
use crate::problem::{ApiError, Problem};
use crate::routes::path_id::{PathId, PathUsername};
use crate::state::AppState;
use crate::visibility;

/// Turn a finished upload into a photo. It answers at once with `status: "processing"`; poll
/// `GET /v1/photos/{id}` until it is `ready` or `failed`. Posting the same upload again answers
/// the same photo.
#[utoipa::path(post, path = "/v1/photos", tag = "photos", security(("bearer" = [])), request_body = CreatePhotoBody,
    responses(
        (status = 202, description = "Accepted; the variants are being made", body = Photo),
        (status = 400, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such upload of the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`upload_incomplete`: the bytes were not PUT yet", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`upload_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_image`: the bytes differ in size or type from what was declared", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_photo(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<CreatePhotoBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let photo = state
        .media
        .clone()
        .create_photo(pb::CreatePhotoRequest {
            user_id: caller.user_id.get(),
            upload_id: body.upload_id.get(),
            caption: body.caption,
            alt_text: body.alt_text,
            location: body.location,
        })
        .await?
        .into_inner();
    let photo = hydrate::photo(&state, caller.user_id, photo).await?;
    Ok(HttpResponse::Accepted().json(photo))
}

/// A photo. Photos of private accounts are visible only to their author and approved
/// followers; to anyone else they do not exist.
#[utoipa::path(get, path = "/v1/photos/{id}", tag = "photos", security(("bearer" = [])),
    params(("id" = String, Path, description = "Photo id")),
    responses(
        (status = 200, body = Photo),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_photo(
    state: web::Data<AppState>,
    caller: Caller,
    PathId(photo_id): PathId<PhotoId>,
) -> Result<HttpResponse, ApiError> {
    let photo = state
        .media
        .clone()
        .get_photo(pb::GetPhotoRequest {
            viewer_id: caller.user_id.get(),
            photo_id: photo_id.get(),
        })
        .await?
        .into_inner();
    let photo = hydrate::photo(&state, caller.user_id, photo).await?;
    Ok(HttpResponse::Ok().json(photo))
}

/// Change the caption, alt text or location of one of the caller's photos. Absent fields stay
/// as they are.
#[utoipa::path(patch, path = "/v1/photos/{id}", tag = "photos", security(("bearer" = [])), request_body = UpdatePhotoBody,
    params(("id" = String, Path, description = "Photo id")),
    responses(
        (status = 200, body = Photo),
        (status = 400, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not the caller's photo", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_photo(
    state: web::Data<AppState>,
    caller: Caller,
    PathId(photo_id): PathId<PhotoId>,
    body: Body<UpdatePhotoBody>,
) -> Result<HttpResponse, ApiError> {
    // A stranger must not learn that a private account's photo exists: 404 before 403.
    visibility::visible_photo(&state, caller.user_id, photo_id).await?;
    let body = body.into_inner();
    let photo = state
        .media
        .clone()
        .update_photo(pb::UpdatePhotoRequest {
            user_id: caller.user_id.get(),
            photo_id: photo_id.get(),
            caption: body.caption,
            alt_text: body.alt_text,
            location: body.location,
        })
        .await?
        .into_inner();
    let photo = hydrate::photo(&state, caller.user_id, photo).await?;
    Ok(HttpResponse::Ok().json(photo))
}

/// Delete one of the caller's photos, its stored image and variants included.
#[utoipa::path(delete, path = "/v1/photos/{id}", tag = "photos", security(("bearer" = [])),
    params(("id" = String, Path, description = "Photo id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not the caller's photo", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_photo(
    state: web::Data<AppState>,
    caller: Caller,
    PathId(photo_id): PathId<PhotoId>,
) -> Result<HttpResponse, ApiError> {
    visibility::visible_photo(&state, caller.user_id, photo_id).await?;
    state
        .media
        .clone()
        .delete_photo(pb::DeletePhotoRequest {
            user_id: caller.user_id.get(),
            photo_id: photo_id.get(),
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Someone's photos, newest first (the profile grid).
#[utoipa::path(get, path = "/v1/users/{username}/photos", tag = "photos", security(("bearer" = [])),
    params(("username" = String, Path, description = "Case-insensitive"), ListParams),
    responses(
        (status = 200, body = PhotoPage),
        (status = 400, description = "`validation_failed`: bad `limit`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`private_account`: the caller does not follow this private account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_user_photos(
    state: web::Data<AppState>,
    caller: Caller,
    PathUsername(username): PathUsername,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let page = params.into_inner().page()?;
    let author = user_named(&state.users, username).await?;
    visibility::require_list_access(&state, caller.user_id, &author).await?;
    let listed = state
        .media
        .clone()
        .list_photos(pb::ListPhotosRequest {
            viewer_id: caller.user_id.get(),
            author_id: author.id,
            page: Some(page),
        })
        .await?
        .into_inner();
    let page = hydrate::photo_page(&state, caller.user_id, listed.photos, listed.page).await?;
    Ok(HttpResponse::Ok().json(page))
}
