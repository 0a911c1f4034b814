//! The trace context crosses a real gRPC hop: a client carrying `ClientInterceptor` calls a tonic
//! server started through the runtime's `serve_grpc` on 127.0.0.1:0, and the span in which the
//! server handles the call belongs to the caller's trace and carries its request id.

use std::convert::Infallible;
use std::sync::Mutex;

use opentelemetry::trace::{TraceContextExt, TraceId, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use photoshare_config::Config;
use photoshare_runtime::{Dev, ServiceSpec, SharedBackends};
use photoshare_telemetry::grpc::ClientInterceptor;
use photoshare_telemetry::request_id;
use tokio_util::sync::CancellationToken;
use tonic::codegen::{http, BoxFuture, Service};
use tonic::server::NamedService;
use tonic::service::interceptor::InterceptedService;
use tonic_prost::ProstCodec;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

/// What the server saw while it handled the call: its span's trace id and the request id.
static SEEN: Mutex<Option<(TraceId, Option<String>)>> = Mutex::new(None);

/// A gRPC service with one unary method taking and returning `google.protobuf.Empty`.
#[derive(Clone)]
struct Probe;

impl NamedService for Probe {
    const NAME: &'static str = "photoshare.test.v1.Probe";
}

struct Call;

impl tonic::server::UnaryService<()> for Call {
    type Response = ();
    type Future = std::future::Ready<Result<tonic::Response<()>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<()>) -> Self::Future {
        let trace = tracing::Span::current()
            .context()
            .span()
            .span_context()
            .trace_id();
        let request_id = request
            .metadata()
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        *SEEN.lock().unwrap() = Some((trace, request_id));
        std::future::ready(Ok(tonic::Response::new(())))
    }
}

impl Service<http::Request<tonic::body::Body>> for Probe {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(ProstCodec::<(), ()>::default());
            Ok(grpc.unary(Call, request).await)
        })
    }
}

static PROBE: ServiceSpec = ServiceSpec {
    name: "probe",
    database: None,
    outbox_relay: false,
    listen: |config| config.users.listen,
    dev: Dev::Configured,
    start: |context| Box::pin(context.serve_grpc(|routes| routes.add_service(Probe))),
};

// One thread: the test's tracing subscriber (set as the thread's default) sees the server too.
#[tokio::test(flavor = "current_thread")]
async fn a_grpc_call_continues_the_callers_trace() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(photoshare_runtime::serve(
        &PROBE,
        listener,
        Config::default(),
        SharedBackends::default(),
        shutdown.clone(),
    ));

    let caller = tracing::info_span!("caller");
    let caller_trace = caller.context().span().span_context().trace_id();
    assert_ne!(caller_trace, TraceId::INVALID);
    let channel =
        photoshare_runtime::lazy_channel(&url, std::time::Duration::from_secs(10)).unwrap();
    let mut client = tonic::client::Grpc::new(InterceptedService::new(channel, ClientInterceptor));
    let call = async {
        client.ready().await.unwrap();
        client
            .unary(
                tonic::Request::new(()),
                http::uri::PathAndQuery::from_static("/photoshare.test.v1.Probe/Call"),
                ProstCodec::<(), ()>::default(),
            )
            .await
    };
    request_id::scope("req-42".into(), call.instrument(caller))
        .await
        .expect("the probe answers");

    let (server_trace, request_id) = SEEN.lock().unwrap().clone().expect("the probe was called");
    assert_eq!(
        server_trace, caller_trace,
        "the server span joins the caller's trace"
    );
    assert_eq!(request_id.as_deref(), Some("req-42"));

    shutdown.cancel();
    server.await.unwrap().unwrap();
}
