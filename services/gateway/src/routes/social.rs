//! Follows, followers and following, follow requests (the graph service), likes and comments
//! (the engagement service). Reads of a private account's lists pass `visibility`; likes and
//! comments first check that the caller may see the photo (else 404, as if it did not exist).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use photoshare_proto::common::v1::{PageInfo, PageRequest};
use photoshare_proto::engagement::v1 as engagement;
use photoshare_proto::graph::v1 as graph;
use photoshare_proto::media::v1 as media;
use photoshare_proto::users::v1 as users;

use crate::authn::Caller;
use crate::models::{
    Comment, CommentBody, CommentPage, FollowAnswer, ListParams, UserPage, UserSummary,
};
use crate::problem::{ApiError, Problem};
use crate::routes::photos::photo_id;
use crate::state::AppState;
use crate::visibility;

async fn user_named(state: &AppState, username: String) -> Result<users::User, ApiError> {
    Ok(state
        .users
        .clone()
        .get_user(users::GetUserRequest {
            key: Some(users::get_user_request::Key::Username(username)),
        })
        .await?
        .into_inner())
}

/// The users with these ids, in this order, in one users call. Unknown ids are left out.
async fn summaries(state: &AppState, ids: Vec<u64>) -> Result<Vec<UserSummary>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = state
        .users
        .clone()
        .batch_get_users(users::BatchGetUsersRequest {
            ids: ids.clone(),
            usernames: Vec::new(),
        })
        .await?
        .into_inner()
        .users;
    let by_id: HashMap<u64, UserSummary> = found
        .iter()
        .map(|u| (u.id, UserSummary::from_user(u)))
        .collect();
    Ok(ids
        .into_iter()
        .filter_map(|id| by_id.get(&id).cloned())
        .collect())
}

fn next_cursor(page: Option<PageInfo>) -> Option<String> {
    page.map(|page| page.next_cursor)
        .filter(|cursor| !cursor.is_empty())
}

async fn user_page(state: &AppState, answer: graph::UserPage) -> Result<HttpResponse, ApiError> {
    let items = summaries(state, answer.user_ids).await?;
    Ok(HttpResponse::Ok().json(UserPage {
        items,
        next_cursor: next_cursor(answer.page),
    }))
}

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
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let target = user_named(&state, username.into_inner()).await?;
    let answer = state
        .graph
        .clone()
        .follow(graph::FollowRequest {
            follower_id: caller.user_id,
            followee_id: target.id,
            followee_is_private: target.is_private,
        })
        .await?
        .into_inner();
    let word = match graph::FollowState::try_from(answer.state) {
        Ok(graph::FollowState::Requested) => "requested",
        _ => {
            crate::routes::feed::backfill(&state, caller.user_id, target.id).await;
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
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let target = user_named(&state, username.into_inner()).await?;
    state
        .graph
        .clone()
        .unfollow(graph::UnfollowRequest {
            follower_id: caller.user_id,
            followee_id: target.id,
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list_people(
    state: web::Data<AppState>,
    caller: Caller,
    username: String,
    params: ListParams,
    followers: bool,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let owner = user_named(&state, username).await?;
    visibility::require_list_access(&state, caller.user_id, &owner).await?;
    let request = graph::ListRequest {
        user_id: owner.id,
        page: Some(page),
    };
    let answer = if followers {
        state.graph.clone().list_followers(request).await?
    } else {
        state.graph.clone().list_following(request).await?
    };
    user_page(&state, answer.into_inner()).await
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
    username: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    list_people(
        state,
        caller,
        username.into_inner(),
        params.into_inner(),
        true,
    )
    .await
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
    username: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    list_people(
        state,
        caller,
        username.into_inner(),
        params.into_inner(),
        false,
    )
    .await
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
            user_id: caller.user_id,
            page: Some(page),
        })
        .await?
        .into_inner();
    user_page(&state, answer).await
}

async fn decide(
    state: web::Data<AppState>,
    caller: Caller,
    username: String,
    approve: bool,
) -> Result<HttpResponse, ApiError> {
    let requester = user_named(&state, username).await?;
    let decision = graph::RequestDecision {
        owner_id: caller.user_id,
        requester_id: requester.id,
    };
    if approve {
        state.graph.clone().approve_request(decision).await?;
        crate::routes::feed::backfill(&state, requester.id, caller.user_id).await;
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
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    decide(state, caller, username.into_inner(), true).await
}

/// Refuse someone's request to follow the caller.
#[utoipa::path(post, path = "/v1/me/follow-requests/{username}/deny", tag = "graph", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 204), (status = 404, description = "`not_found`: no such request", body = Problem, content_type = "application/problem+json")))]
pub async fn deny(
    state: web::Data<AppState>,
    caller: Caller,
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    decide(state, caller, username.into_inner(), false).await
}

fn like_request(caller: Caller, photo: &media::Photo) -> engagement::LikeRequest {
    engagement::LikeRequest {
        user_id: caller.user_id,
        photo_id: photo.id,
        photo_author_id: photo.author_id,
    }
}

/// Like a photo (idempotent).
#[utoipa::path(put, path = "/v1/photos/{id}/like", tag = "engagement", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn like(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let photo = visibility::visible_photo(&state, caller.user_id, photo_id(&id)?).await?;
    state
        .engagement
        .clone()
        .like(like_request(caller, &photo))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Take a like back (idempotent).
#[utoipa::path(delete, path = "/v1/photos/{id}/like", tag = "engagement", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn unlike(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let photo = visibility::visible_photo(&state, caller.user_id, photo_id(&id)?).await?;
    state
        .engagement
        .clone()
        .unlike(like_request(caller, &photo))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who liked a photo, newest first.
#[utoipa::path(get, path = "/v1/photos/{id}/likes", tag = "engagement", security(("bearer" = [])),
    params(("id" = String, Path), ListParams),
    responses((status = 200, body = UserPage), (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json")))]
pub async fn likes(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let page = params.into_inner().page()?;
    let photo = visibility::visible_photo(&state, caller.user_id, photo_id(&id)?).await?;
    let answer = state
        .engagement
        .clone()
        .list_likes(engagement::ListByPhotoRequest {
            photo_id: photo.id,
            page: Some(page),
        })
        .await?
        .into_inner();
    let items = summaries(&state, answer.user_ids).await?;
    Ok(HttpResponse::Ok().json(UserPage {
        items,
        next_cursor: next_cursor(answer.page),
    }))
}

/// Comment on a photo.
#[utoipa::path(post, path = "/v1/photos/{id}/comments", tag = "engagement", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CommentBody,
    responses(
        (status = 201, body = Comment),
        (status = 400, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn comment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<CommentBody>,
) -> Result<HttpResponse, ApiError> {
    let photo = visibility::visible_photo(&state, caller.user_id, photo_id(&id)?).await?;
    let created = state
        .engagement
        .clone()
        .create_comment(engagement::CreateCommentRequest {
            user_id: caller.user_id,
            photo_id: photo.id,
            photo_author_id: photo.author_id,
            text: body.into_inner().text,
        })
        .await?
        .into_inner();
    let author = summaries(&state, vec![caller.user_id])
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
    id: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let page: PageRequest = params.into_inner().page()?;
    let photo = visibility::visible_photo(&state, caller.user_id, photo_id(&id)?).await?;
    let answer = state
        .engagement
        .clone()
        .list_comments(engagement::ListByPhotoRequest {
            photo_id: photo.id,
            page: Some(page),
        })
        .await?
        .into_inner();
    let mut author_ids: Vec<u64> = answer.comments.iter().map(|c| c.author_id).collect();
    author_ids.sort_unstable();
    author_ids.dedup();
    let authors: HashMap<String, UserSummary> = summaries(&state, author_ids)
        .await?
        .into_iter()
        .map(|summary| (summary.id.clone(), summary))
        .collect();
    let items = answer
        .comments
        .into_iter()
        .filter_map(|comment| {
            let author = authors.get(&comment.author_id.to_string())?.clone();
            Some(Comment::from_proto(comment, author))
        })
        .collect();
    Ok(HttpResponse::Ok().json(CommentPage {
        items,
        next_cursor: next_cursor(answer.page),
    }))
}

/// Delete a comment: its author or the photo's author may.
#[utoipa::path(delete, path = "/v1/comments/{id}", tag = "engagement", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 204),
        (status = 403, description = "`forbidden`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_comment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let comment_id = photoshare_ids::parse_decimal_id(&id)
        .ok_or_else(|| ApiError::not_found("no such comment"))?;
    state
        .engagement
        .clone()
        .delete_comment(engagement::DeleteCommentRequest {
            user_id: caller.user_id,
            comment_id,
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
