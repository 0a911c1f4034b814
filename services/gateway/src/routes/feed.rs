//! `GET /v1/feed`: the feed service says which posts, in which order; media, users, graph and
//! engagement fill them in, one batch call each per page (`hydrate`).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use photoshare_ids::UserId;
use photoshare_proto::feed::v1 as feed_pb;
use photoshare_proto::media::v1 as media_pb;

use crate::authn::Caller;
use crate::hydrate;
use crate::models::{ListParams, PhotoPage};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The caller's home feed, newest first: the ready photos of everyone they follow and their
/// own. Following someone shows their recent photos on the next read; unfollowing removes them.
#[utoipa::path(get, path = "/v1/feed", tag = "feed", security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, body = PhotoPage),
        (status = 400, description = "`validation_failed`: bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn home_feed(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let page = params.into_inner().page()?;
    let feed = state
        .feed
        .clone()
        .get_feed(feed_pb::GetFeedRequest {
            reader_id: caller.user_id.get(),
            page: Some(page),
        })
        .await?
        .into_inner();
    let order: Vec<u64> = feed.items.iter().map(|item| item.post_id).collect();
    let photos = photos_in_order(&state, caller.user_id, order).await?;
    let page = hydrate::photo_page(&state, caller.user_id, photos, feed.page).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The photos with these ids, in this order, in one media call. Media answers in its own order
/// and leaves out what is gone; the feed's order stands.
async fn photos_in_order(
    state: &AppState,
    viewer: UserId,
    order: Vec<u64>,
) -> Result<Vec<media_pb::Photo>, ApiError> {
    if order.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: HashMap<u64, media_pb::Photo> = state
        .media
        .clone()
        .batch_get_photos(media_pb::BatchGetPhotosRequest {
            viewer_id: viewer.get(),
            photo_ids: order.clone(),
        })
        .await?
        .into_inner()
        .photos
        .into_iter()
        .map(|photo| (photo.id, photo))
        .collect();
    Ok(order.iter().filter_map(|id| found.remove(id)).collect())
}

/// Puts a newly followed account's recent photos into the follower's feed before the follow is
/// answered, so the next read shows them (API.md). Best effort: the `graph.followed` event does
/// the same a moment later, so a failure here only delays them.
pub async fn backfill(state: &AppState, follower: UserId, followee: UserId) {
    let request = feed_pb::BackfillRequest {
        follower_id: follower.get(),
        followee_id: followee.get(),
    };
    if let Err(status) = state.feed.clone().backfill(request).await {
        tracing::warn!(
            follower = follower.get(),
            followee = followee.get(),
            message = status.message(),
            "feed backfill failed; the event will do it"
        );
    }
}
