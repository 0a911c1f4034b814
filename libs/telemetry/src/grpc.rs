//! Trace context and request ids across gRPC calls, and latency metrics of gRPC servers.
//!
//! Clients attach [`ClientInterceptor`]: it writes the current span's W3C `traceparent` and the
//! current request id into the call's metadata. Servers pass [`server_span`] to tonic's
//! `trace_fn`, which reads them back, so one trace and one request id follow a request through
//! every service. [`MetricsLayer`] times every call. Building and running the server is the
//! runtime's job (`photoshare_runtime::ServiceContext::serve_grpc`), not this crate's.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use opentelemetry::propagation::{Extractor, Injector};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::request_id::{self, REQUEST_ID_HEADER};
use crate::Metrics;

/// Adds `traceparent` and `x-request-id` to every outgoing call.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientInterceptor;

impl tonic::service::Interceptor for ClientInterceptor {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let context = tracing::Span::current().context();
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&context, &mut MetadataInjector(request.metadata_mut()))
        });
        if let Some(id) = request_id::current() {
            if let Ok(value) = MetadataValue::try_from(id.as_str()) {
                request.metadata_mut().insert(REQUEST_ID_HEADER, value);
            }
        }
        Ok(request)
    }
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|key| key.as_str()).collect()
    }
}

/// The span of one incoming gRPC call, child of the caller's trace, carrying its request id.
pub fn server_span<B>(request: &http::Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| request_id::accept_client_id(id))
        .unwrap_or("");
    let span = tracing::info_span!(
        "grpc",
        rpc = %request.uri().path(),
        request_id = %request_id,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    let _ = span.set_parent(parent);
    span
}

/// A tower layer that records the latency of every gRPC call in [`Metrics`].
#[derive(Clone)]
pub struct MetricsLayer {
    service: &'static str,
    metrics: Metrics,
}

impl MetricsLayer {
    pub fn new(service: &'static str, metrics: Metrics) -> MetricsLayer {
        MetricsLayer { service, metrics }
    }
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    layer: MetricsLayer,
}

impl<S, B, ResBody> tower::Service<http::Request<B>> for MetricsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = MetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        MetricsFuture {
            route: request.uri().path().to_owned(),
            started: Instant::now(),
            layer: self.layer.clone(),
            inner: self.inner.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct MetricsFuture<F> {
        #[pin]
        inner: F,
        route: String,
        started: Instant,
        layer: MetricsLayer,
    }
}

impl<F, ResBody, E> Future for MetricsFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        // Errors from handlers travel in grpc-status (headers of a trailers-only answer).
        let status = match &output {
            Ok(response) => response
                .headers()
                .get("grpc-status")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("0")
                .to_owned(),
            Err(_) => "transport_error".to_owned(),
        };
        let route = if this.route.starts_with("/photoshare.") {
            this.route.as_str()
        } else {
            // Unknown paths are not ours to turn into time series.
            "other"
        };
        this.layer.metrics.observe_request(
            this.layer.service,
            "grpc",
            route,
            &status,
            this.started.elapsed().as_secs_f64(),
        );
        Poll::Ready(output)
    }
}
