//! Serving gRPC the way every photoshare service does, and the client channel every caller uses.

use std::sync::Arc;
use std::time::Duration;

use photoshare_telemetry::grpc::{server_span, MetricsLayer};
use photoshare_telemetry::Metrics;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic::transport::{Channel, Endpoint, Server};

use crate::ops::{ops_router, Readiness};

/// Serves the services `add` adds on `listener` until `shutdown`, then drains in-flight calls:
/// with `/livez`, `/readyz` and `/metrics` on the same port (HTTP/1.1 accepted for probes), a
/// span per call continuing the caller's trace, and the latency histogram in `metrics`.
pub(crate) async fn serve(
    listener: TcpListener,
    service: &'static str,
    readiness: Arc<dyn Readiness>,
    metrics: Metrics,
    add: impl FnOnce(Routes) -> Routes,
    shutdown: CancellationToken,
) -> Result<(), tonic::transport::Error> {
    let routes = add(Routes::from(ops_router(readiness, metrics.clone())));
    let addr = listener
        .local_addr()
        .map(|addr| addr.to_string())
        .unwrap_or_default();
    tracing::info!(%addr, "{service} service listening");
    Server::builder()
        .accept_http1(true)
        .trace_fn(server_span)
        .layer(MetricsLayer::new(service, metrics))
        .add_routes(routes)
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            shutdown.cancelled_owned(),
        )
        .await
}

/// A channel to the service at `url` that connects on first use, so a service starts even when
/// the one it calls is not up yet (its `/readyz` says so until it is); every call gets
/// `timeout` as its deadline. Add `photoshare_telemetry::grpc::ClientInterceptor` to the client
/// built on it.
pub fn lazy_channel(url: &str, timeout: Duration) -> Result<Channel, tonic::transport::Error> {
    Ok(Endpoint::from_shared(url.to_owned())?
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(2))
        .tcp_nodelay(true)
        .connect_lazy())
}
