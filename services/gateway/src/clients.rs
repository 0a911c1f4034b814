//! gRPC clients of the internal services, with deadlines and trace propagation on every call,
//! and the user lookups that many routes share.

use std::time::Duration;

use photoshare_proto::engagement::v1::engagement_client::EngagementClient;
use photoshare_proto::feed::v1::feed_client::FeedClient;
use photoshare_proto::graph::v1::graph_client::GraphClient;
use photoshare_proto::media::v1::media_client::MediaClient;
use photoshare_proto::users::v1::users_client::UsersClient;
use photoshare_proto::users::v1::{get_user_request, BatchGetUsersRequest, GetUserRequest, User};
use photoshare_telemetry::grpc::ClientInterceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::problem::ApiError;

/// A channel whose every call carries the trace and the request id.
type Intercepted = InterceptedService<Channel, ClientInterceptor>;

pub type Users = UsersClient<Intercepted>;
pub type Media = MediaClient<Intercepted>;
pub type Graph = GraphClient<Intercepted>;
pub type Engagement = EngagementClient<Intercepted>;
pub type Feed = FeedClient<Intercepted>;

#[derive(Debug, thiserror::Error)]
#[error("invalid service URL `{url}`: {source}")]
pub struct ClientError {
    url: String,
    source: tonic::transport::Error,
}

/// A client made by `new` (a generated client's `new`) over a lazily connected channel to `url`.
fn connect<C>(url: &str, timeout: Duration, new: fn(Intercepted) -> C) -> Result<C, ClientError> {
    let channel = photoshare_runtime::lazy_channel(url, timeout).map_err(|source| ClientError {
        url: url.to_owned(),
        source,
    })?;
    Ok(new(InterceptedService::new(channel, ClientInterceptor)))
}

pub fn users(url: &str, timeout: Duration) -> Result<Users, ClientError> {
    connect(url, timeout, UsersClient::new)
}

pub fn media(url: &str, timeout: Duration) -> Result<Media, ClientError> {
    connect(url, timeout, MediaClient::new)
}

pub fn graph(url: &str, timeout: Duration) -> Result<Graph, ClientError> {
    connect(url, timeout, GraphClient::new)
}

pub fn engagement(url: &str, timeout: Duration) -> Result<Engagement, ClientError> {
    connect(url, timeout, EngagementClient::new)
}

pub fn feed(url: &str, timeout: Duration) -> Result<Feed, ClientError> {
    connect(url, timeout, FeedClient::new)
}

/// The account called `username` (case-insensitive); 404 if there is none.
pub async fn user_named(users: &Users, username: String) -> Result<User, ApiError> {
    Ok(users
        .clone()
        .get_user(GetUserRequest {
            key: Some(get_user_request::Key::Username(username)),
        })
        .await?
        .into_inner())
}

/// The accounts with these ids, in one call, in no particular order; unknown ids are left out.
pub async fn users_by_ids(users: &Users, ids: Vec<u64>) -> Result<Vec<User>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(users
        .clone()
        .batch_get_users(BatchGetUsersRequest {
            ids,
            usernames: Vec::new(),
        })
        .await?
        .into_inner()
        .users)
}
