//! gRPC clients of the internal services, with deadlines and trace propagation on every call.

use std::time::Duration;

use photoshare_proto::engagement::v1::engagement_client::EngagementClient;
use photoshare_proto::feed::v1::feed_client::FeedClient;
use photoshare_proto::graph::v1::graph_client::GraphClient;
use photoshare_proto::media::v1::media_client::MediaClient;
use photoshare_proto::users::v1::users_client::UsersClient;
use photoshare_telemetry::grpc::ClientInterceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Users = UsersClient<InterceptedService<Channel, ClientInterceptor>>;
pub type Media = MediaClient<InterceptedService<Channel, ClientInterceptor>>;
pub type Graph = GraphClient<InterceptedService<Channel, ClientInterceptor>>;
pub type Engagement = EngagementClient<InterceptedService<Channel, ClientInterceptor>>;
pub type Feed = FeedClient<InterceptedService<Channel, ClientInterceptor>>;

#[derive(Debug, thiserror::Error)]
#[error("invalid service URL `{url}`: {source}")]
pub struct ClientError {
    url: String,
    source: tonic::transport::Error,
}

fn channel(url: &str, timeout: Duration) -> Result<Channel, ClientError> {
    photoshare_runtime::lazy_channel(url, timeout).map_err(|source| ClientError {
        url: url.to_owned(),
        source,
    })
}

pub fn users(url: &str, timeout: Duration) -> Result<Users, ClientError> {
    Ok(UsersClient::with_interceptor(
        channel(url, timeout)?,
        ClientInterceptor,
    ))
}

pub fn media(url: &str, timeout: Duration) -> Result<Media, ClientError> {
    Ok(MediaClient::with_interceptor(
        channel(url, timeout)?,
        ClientInterceptor,
    ))
}

pub fn graph(url: &str, timeout: Duration) -> Result<Graph, ClientError> {
    Ok(GraphClient::with_interceptor(
        channel(url, timeout)?,
        ClientInterceptor,
    ))
}

pub fn engagement(url: &str, timeout: Duration) -> Result<Engagement, ClientError> {
    Ok(EngagementClient::with_interceptor(
        channel(url, timeout)?,
        ClientInterceptor,
    ))
}

pub fn feed(url: &str, timeout: Duration) -> Result<Feed, ClientError> {
    Ok(FeedClient::with_interceptor(
        channel(url, timeout)?,
        ClientInterceptor,
    ))
}
