//! The trace context crosses a gRPC hop: the client interceptor writes `traceparent` and
//! `x-request-id`, and the server span built from those headers continues the same trace.

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use photoshare_telemetry::grpc::{server_span, ClientInterceptor};
use photoshare_telemetry::request_id;
use tonic::service::Interceptor;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test]
async fn a_grpc_call_continues_the_callers_trace() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let caller = tracing::info_span!("caller");
    let caller_trace = caller.context().span().span_context().trace_id();
    assert_ne!(caller_trace, opentelemetry::trace::TraceId::INVALID);

    let outgoing = request_id::scope("req-42".into(), async {
        let _entered = caller.enter();
        ClientInterceptor.call(tonic::Request::new(())).unwrap()
    })
    .await;
    let traceparent = outgoing
        .metadata()
        .get("traceparent")
        .expect("traceparent sent");
    assert!(traceparent
        .to_str()
        .unwrap()
        .contains(&caller_trace.to_string()));
    assert_eq!(outgoing.metadata().get("x-request-id").unwrap(), "req-42");

    // The server side sees the same headers on its HTTP/2 request.
    let mut incoming = http::Request::builder().uri("/photoshare.users.v1.Users/Login");
    for (name, value) in outgoing.metadata().clone().into_headers().iter() {
        incoming = incoming.header(name, value);
    }
    let server = server_span(&incoming.body(()).unwrap());
    let server_trace = server.context().span().span_context().trace_id();
    assert_eq!(
        server_trace, caller_trace,
        "the server span joins the caller's trace"
    );
}
