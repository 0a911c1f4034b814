//! Follows, followers and following, follow requests (the graph service), likes and comments
//! (the engagement service). Reads of a private account's lists pass `visibility`; likes and
//! comments first check that the caller may see the photo (else 404, as if it did not exist).

use actix_web::{web, HttpRequest, HttpResponse};
use photoshare_ids::{CommentId, PhotoId, UserId};
use photoshare_proto::engagement::v1 as engagement;
use photoshare_proto::graph::v1 as graph;
use photoshare_proto::ErrorCode;

use crate::authn::Caller;
use crate::body::Body;
use crate::clients::user_named;
use crate::hydrate;
use crate::idempotency::idempotency_key;
use crate::models::{Comment, CommentBody, CommentPage, FollowAnswer, ListParams, UserPage};
use crate::problem::{ApiError, Problem};
use crate::routes::feed::backfill;
use crate::routes::path_id::{PathId, PathUsername};
use crate::state::AppState;
use crate::visibility;

/// Follow someone; a private account gets a request instead.
#[utoipa::path(post, path = "/v1/users/{username}/follow", tag = "graph", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses(
        (status = 200, body = FollowAnswer),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`cannot_follow_self`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn follow(
    state: web::Data<AppState>,
    caller: Caller,
    PathUsername(username): PathUsername,
) -> Result<HttpResponse, ApiError> {
    let target = user_named(&state.users, username).await?;
    let answer = state
        .graph
        .clone()
        .follow(graph::FollowRequest {
            follower_id: caller.user_id.get(),
            followee_id: target.id,
            followee_is_private: target.is_private,
        })
        .await?
        .into_inner();
    let word = match graph::FollowState::try_from(answer.state) {
        Ok(graph::FollowState::Requested) => "requested",
        _ => {
            backfill(&state, caller.user_id, UserId::from(target.id)).await;
            "following"
        }
    };
    Ok(HttpResponse::Ok().json(FollowAnswer {
        state: word.to_owned(),
    }))
}

/// Stop following someone, or withdraw a follow request.
#[utoipa::path(delete, path = "/v1/users/{username}/follow", tag = "graph", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 204), (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn unfollow(
    state: web::Data<AppState>,
    caller: Caller,
    PathUsername(username): PathUsername,
) -> Result<HttpResponse, ApiError> {
    let target = user_named(&state.users, username).await?;
    state
        .graph
        .clone()
        .unfollow(graph::UnfollowRequest {
            follower_id: caller.user_id.get(),
            followee_id: target.id,
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A page of `username`'s followers (`followers`), or of the accounts they follow.
async fn list_people(
    state: web::Data<AppState>,
    caller: Caller,
    username: String,
    params: web::Query<ListParams>,
    followers: bool,
) -> Result<HttpResponse, ApiError> {
    let page = params.into_inner().page()?;
    let owner = user_named(&state.users, username).await?;
    visibility::require_list_access(&state, caller.user_id, &owner).await?;
    let request = graph::ListRequest {
        user_id: owner.id,
        page: Some(page),
    };
    let answer = if followers {
        state.graph.clone().list_followers(request).await?
    } else {
        state.graph.clone().list_following(request).await?
    }
    .into_inner();
    let page = hydrate::user_page(&state, answer.user_ids, answer.page).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Who follows someone, newest first (a private account: its followers only).
#[utoipa::path(get, path = "/v1/users/{username}/followers", tag = "graph", security(("bearer" = [])),
    params(("username" = String, Path), ListParams),
    responses(
        (status = 200, body = UserPage),
        (status = 403, description = "`private_account`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn followers(
    state: web::Data<AppState>,
    caller: Caller,
    PathUsername(username): PathUsername,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    list_people(state, caller, username, params, true).await
}

/// Whom someone follows, newest first (a private account: its followers only).
#[utoipa::path(get, path = "/v1/users/{username}/following", tag = "graph", security(("bearer" = [])),
    params(("username" = String, Path), ListParams),
    responses(
        (status = 200, body = UserPage),
        (status = 403, description = "`private_account`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn following(
    state: web::Data<AppState>,
    caller: Caller,
    PathUsername(username): PathUsername,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    list_people(state, caller, username, params, false).await
}

/// The people waiting for the caller's approval.
#[utoipa::path(get, path = "/v1/me/follow-requests", tag = "graph", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = UserPage)))]
pub async fn follow_requests(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let page = params.into_inner().page()?;
    let answer = state
        .graph
        .clone()
        .list_follow_requests(graph::ListRequest {
            user_id: caller.user_id.get(),
            page: Some(page),
        })
        .await?
        .into_inner();
    let page = hydrate::user_page(&state, answer.user_ids, answer.page).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Approve (`approve`) or deny `username`'s request to follow the caller.
async fn decide(
    state: web::Data<AppState>,
    caller: Caller,
    username: String,
    approve: bool,
) -> Result<HttpResponse, ApiError> {
    let requester = user_named(&state.users, username).await?;
    let decision = graph::RequestDecision {
        owner_id: caller.user_id.get(),
        requester_id: requester.id,
    };
    if approve {
        state.graph.clone().approve_request(decision).await?;
        backfill(&state, UserId::from(requester.id), caller.user_id).await;
    } else {
        state.graph.clone().deny_request(decision).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Let someone who asked follow the caller.
#[utoipa::path(post, path = "/v1/me/follow-requests/{username}/approve", tag = "graph", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 204), (status = 404, description = "`not_found`: no such request", body = Problem, content_type = "application/problem+json")))]
pub async fn approve(
    state: web::Data<AppState>,
    caller: Caller,
    PathUsername(username): PathUsername,
) -> Result<HttpResponse, ApiError> {
    decide(state, caller, username, true).await
}

/// Refuse someone's request to follow the caller.
#[utoipa::path(post, path = "/v1/me/follow-requests/{username}/deny", tag = "graph", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 204), (status = 404, description = "`not_found`: no such request", body = Problem, content_type = "application/problem+json")))]
pub async fn deny(
    state: web::Data<AppState>,
    caller: Caller,
    PathUsername(username): PathUsername,
) -> Result<HttpResponse, ApiError> {
    decide(state, caller, username, false).await
}

/// Like (`true`) or take a like back (`false`) on a photo the caller may see. Both are
/// idempotent.
async fn set_like(
    state: web::Data<AppState>,
    caller: Caller,
    photo_id: PhotoId,
    like: bool,
) -> Result<HttpResponse, ApiError> {
    let photo = visibility::visible_photo(&state, caller.user_id, photo_id).await?;
    let request = engagement::LikeRequest {
        user_id: caller.user_id.get(),
        photo_id: photo.id,
        photo_author_id: photo.author_id,
    };
    if like {
        state.engagement.clone().like(request).await?;
    } else {
        state.engagement.clone().unlike(request).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The request for a page of a photo's likes or comments, once the caller may see the photo.
async fn page_of_photo(
    state: &AppState,
    caller: Caller,
    photo_id: PhotoId,
    params: web::Query<ListParams>,
) -> Result<engagement::ListByPhotoRequest, ApiError> {
    let page = params.into_inner().page()?;
    let photo = visibility::visible_photo(state, caller.user_id, photo_id).await?;
    Ok(engagement::ListByPhotoRequest {
        photo_id: photo.id,
        page: Some(page),
    })
}

/// Like a photo (idempotent).
#[utoipa::path(put, path = "/v1/photos/{id}/like", tag = "engagement", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn like(
    state: web::Data<AppState>,
    caller: Caller,
    PathId(photo_id): PathId<PhotoId>,
) -> Result<HttpResponse, ApiError> {
    set_like(state, caller, photo_id, true).await
}

/// Take a like back (idempotent).
#[utoipa::path(delete, path = "/v1/photos/{id}/like", tag = "engagement", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn unlike(
    state: web::Data<AppState>,
    caller: Caller,
    PathId(photo_id): PathId<PhotoId>,
) -> Result<HttpResponse, ApiError> {
    set_like(state, caller, photo_id, false).await
}

/// Who liked a photo, newest first.
#[utoipa::path(get, path = "/v1/photos/{id}/likes", tag = "engagement", security(("bearer" = [])),
    params(("id" = String, Path), ListParams),
    responses((status = 200, body = UserPage), (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn likes(
    state: web::Data<AppState>,
    caller: Caller,
    PathId(photo_id): PathId<PhotoId>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let request = page_of_photo(&state, caller, photo_id, params).await?;
    let answer = state
        .engagement
        .clone()
        .list_likes(request)
        .await?
        .into_inner();
    let page = hydrate::user_page(&state, answer.user_ids, answer.page).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Comment on a photo. With `Idempotency-Key`, a retry with the same key and text answers the
/// first comment (for 24 hours) instead of commenting twice.
#[utoipa::path(post, path = "/v1/photos/{id}/comments", tag = "engagement", security(("bearer" = [])),
    params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen, at most 200 characters; a retry with the same key and body answers the first comment")),
    request_body = CommentBody,
    responses(
        (status = 201, body = Comment),
        (status = 400, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`idempotency_key_reused`: the key was used for a comment on another photo or with another text", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn comment(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    PathId(photo_id): PathId<PhotoId>,
    body: Body<CommentBody>,
) -> Result<HttpResponse, ApiError> {
    let idempotency_key = idempotency_key(&request)?;
    let photo = visibility::visible_photo(&state, caller.user_id, photo_id).await?;
    let created = state
        .engagement
        .clone()
        .create_comment(engagement::CreateCommentRequest {
            user_id: caller.user_id.get(),
            photo_id: photo.id,
            photo_author_id: photo.author_id,
            text: body.into_inner().text,
            idempotency_key,
        })
        .await?
        .into_inner();
    let author = hydrate::summaries(&state, vec![caller.user_id.get()])
        .await?
        .pop()
        .ok_or_else(|| ApiError::unauthorized("the account of this token no longer exists"))?;
    Ok(HttpResponse::Created().json(Comment::from_proto(created, author)))
}

/// The comments of a photo, oldest first.
#[utoipa::path(get, path = "/v1/photos/{id}/comments", tag = "engagement", security(("bearer" = [])),
    params(("id" = String, Path), ListParams),
    responses((status = 200, body = CommentPage), (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn comments(
    state: web::Data<AppState>,
    caller: Caller,
    PathId(photo_id): PathId<PhotoId>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let request = page_of_photo(&state, caller, photo_id, params).await?;
    let answer = state
        .engagement
        .clone()
        .list_comments(request)
        .await?
        .into_inner();
    let page = hydrate::comment_page(&state, answer.comments, answer.page).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Delete a comment: its author or the photo's author may. To anyone else it is 403 if they
/// can see the photo, and 404 if they cannot (its existence does not leak).
#[utoipa::path(delete, path = "/v1/comments/{id}", tag = "engagement", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 204),
        (status = 403, description = "`forbidden`: not the comment's nor the photo's author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such comment, or on a photo the caller cannot see", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_comment(
    state: web::Data<AppState>,
    caller: Caller,
    PathId(comment_id): PathId<CommentId>,
) -> Result<HttpResponse, ApiError> {
    let deleted = state
        .engagement
        .clone()
        .delete_comment(engagement::DeleteCommentRequest {
            user_id: caller.user_id.get(),
            comment_id: comment_id.get(),
        })
        .await;
    match deleted.map_err(ApiError::from) {
        Ok(_) => Ok(HttpResponse::NoContent().finish()),
        Err(refused) if refused.code == ErrorCode::Forbidden => {
            // Only a caller who may see the photo learns that the comment exists.
            let comment = state
                .engagement
                .clone()
                .get_comment(engagement::GetCommentRequest {
                    comment_id: comment_id.get(),
                })
                .await?
                .into_inner();
            match visibility::visible_photo(&state, caller.user_id, comment.photo_id.into()).await {
                Ok(_) => Err(refused),
                Err(hidden) if hidden.code == ErrorCode::NotFound => {
                    Err(ApiError::not_found("no such comment"))
                }
                Err(error) => Err(error),
            }
        }
        Err(error) => Err(error),
    }
}
