//! What the feed asks the graph service: follower counts, whom a reader follows, and every
//! follower of an author. The graph is the truth about who may see what; the feed keeps no copy.

use std::collections::HashSet;
use std::time::Duration;

use photoshare_proto::graph::v1 as pb;
use photoshare_proto::graph::v1::graph_client::GraphClient;
use photoshare_telemetry::grpc::ClientInterceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::error::FeedError;

/// Users per `BatchRelationships` call (the graph service's limit).
const RELATIONSHIPS_PER_CALL: usize = 200;
/// Followers per streamed batch: one pipelined cache write each.
pub const FOLLOWER_BATCH: u32 = 1_000;

#[derive(Clone)]
pub struct Graph {
    client: GraphClient<InterceptedService<Channel, ClientInterceptor>>,
}

impl Graph {
    /// A lazily connecting client: the feed starts before the graph service answers.
    pub fn connect_lazy(url: &str, timeout: Duration) -> Result<Graph, tonic::transport::Error> {
        let channel = photoshare_runtime::lazy_channel(url, timeout)?;
        Ok(Graph {
            client: GraphClient::with_interceptor(channel, ClientInterceptor),
        })
    }

    pub async fn followers_count(&self, user: u64) -> Result<u64, FeedError> {
        let answer = self
            .client
            .clone()
            .batch_relationships(pb::BatchRelationshipsRequest {
                viewer_id: user,
                user_ids: vec![user],
            })
            .await?
            .into_inner();
        Ok(answer
            .relationships
            .first()
            .map_or(0, |relationship| relationship.followers_count))
    }

    /// Whom `user` follows; with `more_followers_than > 0`, only those with more followers.
    pub async fn following(
        &self,
        user: u64,
        more_followers_than: u64,
    ) -> Result<Vec<u64>, FeedError> {
        Ok(self
            .client
            .clone()
            .following_ids(pb::FollowingIdsRequest {
                user_id: user,
                more_followers_than,
            })
            .await?
            .into_inner()
            .user_ids)
    }

    /// Which of `users` `viewer` follows now.
    pub async fn followed_among(
        &self,
        viewer: u64,
        users: &[u64],
    ) -> Result<HashSet<u64>, FeedError> {
        let mut followed = HashSet::new();
        for chunk in users.chunks(RELATIONSHIPS_PER_CALL) {
            let answer = self
                .client
                .clone()
                .batch_relationships(pb::BatchRelationshipsRequest {
                    viewer_id: viewer,
                    user_ids: chunk.to_vec(),
                })
                .await?
                .into_inner();
            followed.extend(
                answer
                    .relationships
                    .iter()
                    .filter(|relationship| relationship.following)
                    .map(|relationship| relationship.user_id),
            );
        }
        Ok(followed)
    }

    /// Every follower of `user`, in batches.
    pub async fn followers(
        &self,
        user: u64,
    ) -> Result<tonic::Streaming<pb::FollowerBatch>, FeedError> {
        Ok(self
            .client
            .clone()
            .stream_followers(pb::StreamFollowersRequest {
                user_id: user,
                after_user_id: 0,
                batch_size: FOLLOWER_BATCH,
            })
            .await?
            .into_inner())
    }
}
