//! Installs the process-wide `tracing` subscriber, writing to stderr (stdout is the program's
//! own output, such as `photoshare ready at ...`): a JSON (or text) log layer whose lines carry
//! the fields of the enclosing spans (so `request_id` appears on every line of a request), and an
//! OpenTelemetry layer so spans get W3C trace ids that cross process boundaries.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use photoshare_config::{LogFormat, TelemetryConfig};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid log filter `{filter}`: {source}")]
    Filter {
        filter: String,
        source: tracing_subscriber::filter::ParseError,
    },
    #[error("cannot build the OTLP exporter for {endpoint}: {source}")]
    Exporter {
        endpoint: String,
        source: opentelemetry_otlp::ExporterBuildError,
    },
}

/// Flushes pending spans when dropped; keep it alive for the life of the process.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// Installs the global subscriber and the W3C trace-context propagator. Calling it again in the
/// same process (several services in `photoshare dev`, or tests) keeps the first subscriber.
pub fn init(service: &str, config: &TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let filter =
        EnvFilter::try_new(&config.log_filter).map_err(|source| TelemetryError::Filter {
            filter: config.log_filter.clone(),
            source,
        })?;
    let provider = tracer_provider(service, config)?;
    // Spans get trace ids even with no exporter, so `traceparent` still propagates.
    let otel_layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("photoshare"));

    let (json, text) = match config.log_format {
        LogFormat::Json => (
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .json()
                    .with_current_span(true)
                    .with_span_list(true)
                    .flatten_event(true),
            ),
            None,
        ),
        LogFormat::Text => (
            None,
            Some(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)),
        ),
    };
    let _already_installed = tracing_subscriber::registry()
        .with(filter)
        .with(json)
        .with(text)
        .with(otel_layer)
        .try_init()
        .is_err();
    Ok(TelemetryGuard { provider })
}

fn tracer_provider(
    service: &str,
    config: &TelemetryConfig,
) -> Result<SdkTracerProvider, TelemetryError> {
    let resource = Resource::builder()
        .with_service_name(service.to_owned())
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let Some(endpoint) = config.otlp_endpoint.as_deref() else {
        return Ok(builder.build());
    };
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|source| TelemetryError::Exporter {
            endpoint: endpoint.to_owned(),
            source,
        })?;
    let provider = builder.with_batch_exporter(exporter).build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    Ok(provider)
}
