//! W3C trace context as plain key/value headers, for carriers that are not gRPC metadata
//! (Kafka record headers, the embedded event log).

use std::collections::HashMap;

use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The current span's trace context (`traceparent`, and `tracestate` when set).
pub fn current_context_headers() -> Vec<(String, String)> {
    let context = tracing::Span::current().context();
    let mut carrier: HashMap<String, String> = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut carrier)
    });
    let mut headers: Vec<(String, String)> = carrier.into_iter().collect();
    headers.sort();
    headers
}

/// Makes `span` a child of the trace context found in `headers`, if any.
pub fn follow(span: &tracing::Span, headers: &[(String, String)]) {
    let carrier: HashMap<String, String> = headers
        .iter()
        .filter(|(key, _)| key == "traceparent" || key == "tracestate")
        .cloned()
        .collect();
    if carrier.is_empty() {
        return;
    }
    let parent =
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    let _ = span.set_parent(parent);
}
