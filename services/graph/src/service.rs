//! The `photoshare.graph.v1.Graph` gRPC service: the rules of following, follow requests, lists
//! and relationships on top of the store. Who the caller is and whether the followee is private
//! are the gateway's word; this service never asks the users service.

use photoshare_ids::unix_ms_now;
use photoshare_proto::page::Page;
use std::sync::Arc;

use futures::stream::BoxStream;
use futures::TryStreamExt;
use photoshare_events::Message;
use photoshare_ids::IdGenerator;
use photoshare_proto::common::v1::{PageInfo, PageRequest};
use photoshare_proto::events::v1 as events;
use photoshare_proto::graph::v1 as pb;
use photoshare_proto::Event as BusEvent;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

use crate::domain::{self, require_user};
use crate::error::GraphError;
use crate::store::{Asked, Event, Store};

pub use crate::domain::MAX_BATCH;

pub struct GraphService {
    store: Store,
    ids: Arc<IdGenerator>,
    relay_wake: Arc<Notify>,
}

/// Which list of users a page is read from.
#[derive(Clone, Copy)]
enum List {
    Followers,
    Following,
    Requests,
}

impl GraphService {
    pub fn new(store: Store, ids: Arc<IdGenerator>, relay_wake: Arc<Notify>) -> Self {
        GraphService {
            store,
            ids,
            relay_wake,
        }
    }

    /// The follower and followee of a request, both present and different.
    fn pair(follower: u64, followee: u64) -> Result<(u64, u64), GraphError> {
        let follower = require_user("follower_id", follower).map_err(GraphError::Invalid)?;
        let followee = require_user("followee_id", followee).map_err(GraphError::Invalid)?;
        if follower == followee {
            return Err(GraphError::CannotFollowSelf);
        }
        Ok((follower, followee))
    }

    /// `event` as a message with a fresh event id.
    fn event(&self, event: BusEvent, now_ms: i64) -> (u64, Message) {
        let event_id = self.ids.next_id();
        (event_id, Message::from_event(&event, event_id, now_ms))
    }

    async fn follow(&self, request: pb::FollowRequest) -> Result<pb::FollowState, GraphError> {
        let (follower, followee) = Self::pair(request.follower_id, request.followee_id)?;
        let now = unix_ms_now();
        if request.followee_is_private {
            let asked = self
                .store
                .ask(self.ids.next_id(), follower, followee, now)
                .await?;
            return Ok(match asked {
                Asked::AlreadyFollowing => pb::FollowState::Following,
                Asked::Pending => pb::FollowState::Requested,
            });
        }
        let followed = BusEvent::Followed(events::Followed {
            follower_id: follower,
            followee_id: followee,
        });
        let (event_id, message) = self.event(followed, now);
        let event = Event {
            id: event_id,
            message: &message,
        };
        if self
            .store
            .follow(self.ids.next_id(), follower, followee, event, now)
            .await?
        {
            self.relay_wake.notify_one();
            tracing::info!(follower, followee, "followed");
        }
        Ok(pb::FollowState::Following)
    }

    async fn unfollow(&self, request: pb::UnfollowRequest) -> Result<(), GraphError> {
        let (follower, followee) = match Self::pair(request.follower_id, request.followee_id) {
            Ok(pair) => pair,
            // Nobody follows themselves: there is nothing to undo.
            Err(GraphError::CannotFollowSelf) => return Ok(()),
            Err(error) => return Err(error),
        };
        let now = unix_ms_now();
        let unfollowed = BusEvent::Unfollowed(events::Unfollowed {
            follower_id: follower,
            followee_id: followee,
        });
        let (event_id, message) = self.event(unfollowed, now);
        let event = Event {
            id: event_id,
            message: &message,
        };
        let removed = self.store.unfollow(follower, followee, event, now).await?;
        if removed.edge {
            self.relay_wake.notify_one();
            tracing::info!(follower, followee, "unfollowed");
        }
        Ok(())
    }

    async fn approve(&self, request: pb::RequestDecision) -> Result<(), GraphError> {
        let (owner, requester) = decision(&request)?;
        let now = unix_ms_now();
        let followed = BusEvent::Followed(events::Followed {
            follower_id: requester,
            followee_id: owner,
        });
        let (event_id, message) = self.event(followed, now);
        let event = Event {
            id: event_id,
            message: &message,
        };
        if !self
            .store
            .approve(self.ids.next_id(), owner, requester, event, now)
            .await?
        {
            return Err(GraphError::NotFound("follow request"));
        }
        self.relay_wake.notify_one();
        tracing::info!(
            follower = requester,
            followee = owner,
            "follow request approved"
        );
        Ok(())
    }

    async fn deny(&self, request: pb::RequestDecision) -> Result<(), GraphError> {
        let (owner, requester) = decision(&request)?;
        if !self.store.deny(owner, requester).await? {
            return Err(GraphError::NotFound("follow request"));
        }
        Ok(())
    }

    async fn list(&self, list: List, request: pb::ListRequest) -> Result<pb::UserPage, GraphError> {
        let user = require_user("user_id", request.user_id).map_err(GraphError::Invalid)?;
        let (before, limit) = page(request.page)?;
        let mut items = match list {
            List::Followers => self.store.followers(user, before, limit + 1).await?,
            List::Following => self.store.following(user, before, limit + 1).await?,
            List::Requests => self.store.requests(user, before, limit + 1).await?,
        };
        let next_cursor = next_cursor(&mut items, limit);
        Ok(pb::UserPage {
            user_ids: items.into_iter().map(|(_, user)| user).collect(),
            page: Some(PageInfo { next_cursor }),
        })
    }

    async fn batch_relationships(
        &self,
        request: pb::BatchRelationshipsRequest,
    ) -> Result<pb::BatchRelationshipsResponse, GraphError> {
        if request.user_ids.len() > MAX_BATCH {
            return Err(GraphError::Invalid(format!(
                "at most {MAX_BATCH} users per batch"
            )));
        }
        let relations = self
            .store
            .relations(request.viewer_id, &request.user_ids)
            .await?;
        let relationships = request
            .user_ids
            .iter()
            .map(|user| {
                let counts = relations.counts.get(user).copied().unwrap_or_default();
                pb::Relationship {
                    user_id: *user,
                    following: relations.following.contains(user),
                    followed_by: relations.followed_by.contains(user),
                    requested: relations.requested.contains(user),
                    followers_count: counts.followers,
                    following_count: counts.following,
                }
            })
            .collect();
        Ok(pb::BatchRelationshipsResponse { relationships })
    }

    /// Every follower of the user after `after_user_id`, by ascending id, one keyset query per
    /// batch, each run only when the client has taken the previous batch.
    fn stream_followers(
        &self,
        request: pb::StreamFollowersRequest,
    ) -> Result<BoxStream<'static, Result<pb::FollowerBatch, Status>>, GraphError> {
        let user = require_user("user_id", request.user_id).map_err(GraphError::Invalid)?;
        let batch = domain::stream_batch_size(request.batch_size).map_err(GraphError::Invalid)?;
        let start = (self.store.clone(), request.after_user_id, false);
        let stream = futures::stream::try_unfold(start, move |(store, after, done)| async move {
            if done {
                return Ok(None);
            }
            let ids = store.followers_after(user, after, batch).await?;
            let Some(&last) = ids.last() else {
                return Ok(None);
            };
            let done = ids.len() < batch as usize;
            Ok(Some((
                pb::FollowerBatch { user_ids: ids },
                (store, last, done),
            )))
        });
        Ok(Box::pin(
            stream.map_err(|error: GraphError| Status::from(error)),
        ))
    }
}

/// The owner and requester of a decision, both present.
fn decision(request: &pb::RequestDecision) -> Result<(u64, u64), GraphError> {
    let owner = require_user("owner_id", request.owner_id).map_err(GraphError::Invalid)?;
    let requester =
        require_user("requester_id", request.requester_id).map_err(GraphError::Invalid)?;
    Ok((owner, requester))
}

/// The cursor (the id to read below) and limit of a page request.
fn page(request: Option<PageRequest>) -> Result<(Option<u64>, u32), GraphError> {
    let page = Page::parse(request.as_ref()).map_err(GraphError::Invalid)?;
    Ok((page.after, page.limit))
}

/// Drops the extra item read beyond `limit` and returns the cursor after the last kept item;
/// empty when there was no next page.
fn next_cursor(items: &mut Vec<(u64, u64)>, limit: u32) -> String {
    photoshare_proto::page::next_cursor(items, limit, |(id, _)| *id)
}

#[tonic::async_trait]
impl pb::graph_server::Graph for GraphService {
    async fn follow(
        &self,
        request: Request<pb::FollowRequest>,
    ) -> Result<Response<pb::FollowResponse>, Status> {
        let state = GraphService::follow(self, request.into_inner()).await?;
        Ok(Response::new(pb::FollowResponse {
            state: state as i32,
        }))
    }

    async fn unfollow(
        &self,
        request: Request<pb::UnfollowRequest>,
    ) -> Result<Response<pb::UnfollowResponse>, Status> {
        GraphService::unfollow(self, request.into_inner()).await?;
        Ok(Response::new(pb::UnfollowResponse {}))
    }

    async fn approve_request(
        &self,
        request: Request<pb::RequestDecision>,
    ) -> Result<Response<pb::DecisionResponse>, Status> {
        self.approve(request.into_inner()).await?;
        Ok(Response::new(pb::DecisionResponse {}))
    }

    async fn deny_request(
        &self,
        request: Request<pb::RequestDecision>,
    ) -> Result<Response<pb::DecisionResponse>, Status> {
        self.deny(request.into_inner()).await?;
        Ok(Response::new(pb::DecisionResponse {}))
    }

    async fn list_followers(
        &self,
        request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::UserPage>, Status> {
        Ok(Response::new(
            self.list(List::Followers, request.into_inner()).await?,
        ))
    }

    async fn list_following(
        &self,
        request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::UserPage>, Status> {
        Ok(Response::new(
            self.list(List::Following, request.into_inner()).await?,
        ))
    }

    async fn list_follow_requests(
        &self,
        request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::UserPage>, Status> {
        Ok(Response::new(
            self.list(List::Requests, request.into_inner()).await?,
        ))
    }

    async fn batch_relationships(
        &self,
        request: Request<pb::BatchRelationshipsRequest>,
    ) -> Result<Response<pb::BatchRelationshipsResponse>, Status> {
        Ok(Response::new(
            GraphService::batch_relationships(self, request.into_inner()).await?,
        ))
    }

    type StreamFollowersStream = BoxStream<'static, Result<pb::FollowerBatch, Status>>;

    async fn stream_followers(
        &self,
        request: Request<pb::StreamFollowersRequest>,
    ) -> Result<Response<Self::StreamFollowersStream>, Status> {
        Ok(Response::new(GraphService::stream_followers(
            self,
            request.into_inner(),
        )?))
    }

    async fn following_ids(
        &self,
        request: Request<pb::FollowingIdsRequest>,
    ) -> Result<Response<pb::FollowingIdsResponse>, Status> {
        let request = request.into_inner();
        let user = require_user("user_id", request.user_id).map_err(GraphError::Invalid)?;
        let user_ids = self
            .store
            .following_ids(user, request.more_followers_than)
            .await?;
        Ok(Response::new(pb::FollowingIdsResponse { user_ids }))
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
            cursor: "99".into(),
            limit: 7,
        };
        assert_eq!(page(Some(asked)).unwrap(), (Some(99), 7));
        for bad in [
            PageRequest {
                cursor: String::new(),
                limit: photoshare_proto::page::MAX_LIMIT + 1,
            },
            PageRequest {
                cursor: "not-a-cursor".into(),
                limit: 5,
            },
        ] {
            let error = page(Some(bad)).unwrap_err();
            assert_eq!(error.code(), photoshare_proto::ErrorCode::ValidationFailed);
        }
    }

    #[test]
    fn the_extra_item_makes_the_next_cursor() {
        let mut full = vec![(30, 3), (20, 2), (10, 1)];
        assert_eq!(next_cursor(&mut full, 2), "20");
        assert_eq!(full, [(30, 3), (20, 2)]);
        let mut last = vec![(30, 3), (20, 2)];
        assert_eq!(next_cursor(&mut last, 2), "");
        assert_eq!(last.len(), 2);
    }

    #[test]
    fn pairs_need_two_different_users() {
        assert_eq!(GraphService::pair(1, 2).unwrap(), (1, 2));
        assert!(matches!(
            GraphService::pair(3, 3),
            Err(GraphError::CannotFollowSelf)
        ));
        assert!(matches!(
            GraphService::pair(0, 3),
            Err(GraphError::Invalid(_))
        ));
        assert!(matches!(
            GraphService::pair(3, 0),
            Err(GraphError::Invalid(_))
        ));
    }
}
