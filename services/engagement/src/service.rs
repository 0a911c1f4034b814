//! The `photoshare.engagement.v1.Engagement` gRPC service: the rules of likes and comments on
//! top of the store, and the events they emit (`engagement.liked`, `engagement.commented`, keyed
//! by photo id) through the outbox.
//!
//! It trusts its caller (the gateway) for who the user is and that the user may see the photo;
//! it never asks the media service whether a photo exists.
//!
//! A comment created with an Idempotency-Key answers retries with the first comment for a day;
//! the expired keys are purged at most once a minute, by the next keyed comment.

use photoshare_ids::unix_ms_now;
use photoshare_proto::page::Page;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use photoshare_events::Message;
use photoshare_ids::IdGenerator;
use photoshare_proto::common::v1::{PageInfo, PageRequest};
use photoshare_proto::engagement::v1 as pb;
use photoshare_proto::events::v1 as events;
use photoshare_proto::Event as BusEvent;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

use crate::domain::{self, MAX_BATCH};
use crate::error::EngagementError;
use crate::store::{CommentCreated, CommentKey, CommentRecord, Event, NewComment, Store};

/// How long a comment's Idempotency-Key answers retries.
const COMMENT_KEY_TTL_MS: i64 = 24 * 3600 * 1000;

/// The expired keys are deleted at most this often.
const PURGE_EVERY_MS: i64 = 60_000;

pub struct EngagementService {
    store: Store,
    ids: Arc<IdGenerator>,
    relay_wake: Arc<Notify>,
    /// When the expired Idempotency-Keys were last purged (Unix ms).
    last_purge_ms: AtomicI64,
}

impl EngagementService {
    pub fn new(store: Store, ids: Arc<IdGenerator>, relay_wake: Arc<Notify>) -> Self {
        EngagementService {
            store,
            ids,
            relay_wake,
            last_purge_ms: AtomicI64::new(0),
        }
    }

    async fn like(&self, request: pb::LikeRequest) -> Result<(), EngagementError> {
        require("user_id", request.user_id)?;
        require("photo_id", request.photo_id)?;
        let now = unix_ms_now();
        let event_id = self.ids.next_id();
        let payload = events::Liked {
            photo_id: request.photo_id,
            user_id: request.user_id,
            photo_author_id: request.photo_author_id,
        };
        let message = Message::from_event(&BusEvent::Liked(payload), event_id, now);
        let liked = self
            .store
            .like(
                self.ids.next_id(),
                request.photo_id,
                request.user_id,
                Event {
                    id: event_id,
                    message: &message,
                },
                now,
            )
            .await?;
        if liked {
            self.relay_wake.notify_one();
            tracing::debug!(
                photo_id = request.photo_id,
                user_id = request.user_id,
                "liked"
            );
        }
        Ok(())
    }

    async fn unlike(&self, request: pb::LikeRequest) -> Result<(), EngagementError> {
        require("user_id", request.user_id)?;
        require("photo_id", request.photo_id)?;
        if self
            .store
            .unlike(request.photo_id, request.user_id, unix_ms_now())
            .await?
        {
            tracing::debug!(
                photo_id = request.photo_id,
                user_id = request.user_id,
                "unliked"
            );
        }
        Ok(())
    }

    async fn list_likes(
        &self,
        request: pb::ListByPhotoRequest,
    ) -> Result<pb::LikerPage, EngagementError> {
        let (cursor, limit) = page(request.page)?;
        let mut likes = self
            .store
            .likers(request.photo_id, cursor, limit + 1)
            .await?;
        let next_cursor = next_cursor(&mut likes, limit, |(like_id, _)| *like_id);
        Ok(pb::LikerPage {
            user_ids: likes.into_iter().map(|(_, user_id)| user_id).collect(),
            page: Some(PageInfo { next_cursor }),
        })
    }

    async fn create_comment(
        &self,
        request: pb::CreateCommentRequest,
    ) -> Result<pb::Comment, EngagementError> {
        require("user_id", request.user_id)?;
        require("photo_id", request.photo_id)?;
        require("photo_author_id", request.photo_author_id)?;
        let text = domain::parse_comment_text(&request.text).map_err(EngagementError::Invalid)?;
        let now = unix_ms_now();
        let key = (!request.idempotency_key.is_empty()).then(|| CommentKey {
            key: &request.idempotency_key,
            expires_at_ms: now + COMMENT_KEY_TTL_MS,
        });
        if key.is_some() {
            self.purge_expired_keys(now).await;
        }
        let comment_id = self.ids.next_id();
        let event_id = self.ids.next_id();
        let payload = events::Commented {
            photo_id: request.photo_id,
            comment_id,
            user_id: request.user_id,
            photo_author_id: request.photo_author_id,
        };
        let message = Message::from_event(&BusEvent::Commented(payload), event_id, now);
        let created = self
            .store
            .create_comment(
                &NewComment {
                    id: comment_id,
                    photo_id: request.photo_id,
                    author_id: request.user_id,
                    photo_author_id: request.photo_author_id,
                    text: &text,
                    now_ms: now,
                },
                key,
                Event {
                    id: event_id,
                    message: &message,
                },
            )
            .await?;
        match created {
            CommentCreated::New(comment) => {
                self.relay_wake.notify_one();
                tracing::debug!(comment_id, photo_id = request.photo_id, "comment created");
                Ok(view(comment))
            }
            // A retry: the same request gets the first answer, another one with the key is
            // refused rather than answered with a comment it did not ask for.
            CommentCreated::Earlier(comment)
                if comment.photo_id == request.photo_id && comment.text == text =>
            {
                Ok(view(comment))
            }
            CommentCreated::Earlier(_) => Err(EngagementError::IdempotencyKeyReused),
        }
    }

    /// Deletes the expired Idempotency-Keys if that was not done in the last minute. A failure
    /// only delays it: it is logged, and the comment goes ahead.
    async fn purge_expired_keys(&self, now_ms: i64) {
        let last = self.last_purge_ms.load(Ordering::Relaxed);
        let due = now_ms - last >= PURGE_EVERY_MS
            && self
                .last_purge_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok();
        if !due {
            return;
        }
        match self.store.purge_expired_keys(now_ms).await {
            Ok(purged) => tracing::debug!(purged, "expired comment keys purged"),
            Err(error) => tracing::warn!(%error, "purging expired comment keys failed"),
        }
    }

    async fn get_comment(
        &self,
        request: pb::GetCommentRequest,
    ) -> Result<pb::Comment, EngagementError> {
        let comment = self
            .store
            .comment(request.comment_id)
            .await?
            .ok_or(EngagementError::NotFound("comment"))?;
        Ok(view(comment))
    }

    async fn list_comments(
        &self,
        request: pb::ListByPhotoRequest,
    ) -> Result<pb::CommentPage, EngagementError> {
        let (cursor, limit) = page(request.page)?;
        let mut comments = self
            .store
            .comments(request.photo_id, cursor, limit + 1)
            .await?;
        let next_cursor = next_cursor(&mut comments, limit, |comment| comment.id);
        Ok(pb::CommentPage {
            comments: comments.into_iter().map(view).collect(),
            page: Some(PageInfo { next_cursor }),
        })
    }

    async fn delete_comment(
        &self,
        request: pb::DeleteCommentRequest,
    ) -> Result<(), EngagementError> {
        require("user_id", request.user_id)?;
        self.store
            .delete_comment(request.comment_id, request.user_id, unix_ms_now())
            .await?;
        tracing::debug!(comment_id = request.comment_id, "comment deleted");
        Ok(())
    }

    async fn batch_photo_stats(
        &self,
        request: pb::BatchPhotoStatsRequest,
    ) -> Result<pb::BatchPhotoStatsResponse, EngagementError> {
        if request.photo_ids.len() > MAX_BATCH {
            return Err(EngagementError::Invalid(format!(
                "at most {MAX_BATCH} photos per batch"
            )));
        }
        let (counts, liked) = self
            .store
            .stats(request.viewer_id, &request.photo_ids)
            .await?;
        let stats = request
            .photo_ids
            .iter()
            .map(|photo_id| {
                let counts = counts.get(photo_id).copied().unwrap_or_default();
                pb::PhotoStats {
                    photo_id: *photo_id,
                    like_count: counts.like_count,
                    comment_count: counts.comment_count,
                    liked_by_me: liked.contains(photo_id),
                }
            })
            .collect();
        Ok(pb::BatchPhotoStatsResponse { stats })
    }
}

/// Ids are never 0; a 0 is a field the caller forgot to set.
fn require(field: &str, id: u64) -> Result<(), EngagementError> {
    if id == 0 {
        return Err(EngagementError::Invalid(format!("{field} is required")));
    }
    Ok(())
}

/// The cursor and limit of a page request, checked.
fn page(request: Option<PageRequest>) -> Result<(Option<u64>, u32), EngagementError> {
    let page = Page::parse(request.as_ref()).map_err(EngagementError::Invalid)?;
    Ok((page.after, page.limit))
}

use photoshare_proto::page::next_cursor;

fn view(comment: CommentRecord) -> pb::Comment {
    pb::Comment {
        id: comment.id,
        photo_id: comment.photo_id,
        author_id: comment.author_id,
        text: comment.text,
        created_at_ms: comment.created_at_ms,
    }
}

#[tonic::async_trait]
impl pb::engagement_server::Engagement for EngagementService {
    async fn like(
        &self,
        request: Request<pb::LikeRequest>,
    ) -> Result<Response<pb::LikeResponse>, Status> {
        EngagementService::like(self, request.into_inner()).await?;
        Ok(Response::new(pb::LikeResponse {}))
    }

    async fn unlike(
        &self,
        request: Request<pb::LikeRequest>,
    ) -> Result<Response<pb::LikeResponse>, Status> {
        EngagementService::unlike(self, request.into_inner()).await?;
        Ok(Response::new(pb::LikeResponse {}))
    }

    async fn list_likes(
        &self,
        request: Request<pb::ListByPhotoRequest>,
    ) -> Result<Response<pb::LikerPage>, Status> {
        Ok(Response::new(
            EngagementService::list_likes(self, request.into_inner()).await?,
        ))
    }

    async fn create_comment(
        &self,
        request: Request<pb::CreateCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        Ok(Response::new(
            EngagementService::create_comment(self, request.into_inner()).await?,
        ))
    }

    async fn get_comment(
        &self,
        request: Request<pb::GetCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        Ok(Response::new(
            EngagementService::get_comment(self, request.into_inner()).await?,
        ))
    }

    async fn list_comments(
        &self,
        request: Request<pb::ListByPhotoRequest>,
    ) -> Result<Response<pb::CommentPage>, Status> {
        Ok(Response::new(
            EngagementService::list_comments(self, request.into_inner()).await?,
        ))
    }

    async fn delete_comment(
        &self,
        request: Request<pb::DeleteCommentRequest>,
    ) -> Result<Response<pb::DeleteCommentResponse>, Status> {
        EngagementService::delete_comment(self, request.into_inner()).await?;
        Ok(Response::new(pb::DeleteCommentResponse {}))
    }

    async fn batch_photo_stats(
        &self,
        request: Request<pb::BatchPhotoStatsRequest>,
    ) -> Result<Response<pb::BatchPhotoStatsResponse>, Status> {
        Ok(Response::new(
            EngagementService::batch_photo_stats(self, request.into_inner()).await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_request_is_checked() {
        assert_eq!(
            page(None).unwrap(),
            (None, photoshare_proto::page::DEFAULT_LIMIT)
        );
        let asked = PageRequest {
            cursor: "12".into(),
            limit: 7,
        };
        assert_eq!(page(Some(asked)).unwrap(), (Some(12), 7));
        for bad in [
            PageRequest {
                cursor: String::new(),
                limit: photoshare_proto::page::MAX_LIMIT + 1,
            },
            PageRequest {
                cursor: "nope".into(),
                limit: 0,
            },
        ] {
            assert_eq!(
                page(Some(bad)).unwrap_err().code(),
                photoshare_proto::ErrorCode::ValidationFailed
            );
        }
    }

    #[test]
    fn the_extra_item_makes_the_next_cursor() {
        let mut items = vec![5u64, 4, 3];
        assert_eq!(next_cursor(&mut items, 2, |id| *id), "4");
        assert_eq!(items, [5, 4]);
        let mut items = vec![5u64, 4];
        assert_eq!(next_cursor(&mut items, 2, |id| *id), "");
        assert_eq!(items, [5, 4]);
        let mut empty: Vec<u64> = Vec::new();
        assert_eq!(next_cursor(&mut empty, 2, |id| *id), "");
    }

    #[test]
    fn zero_ids_are_missing_fields() {
        assert!(require("user_id", 0).is_err());
        assert!(require("user_id", 1).is_ok());
    }
}
