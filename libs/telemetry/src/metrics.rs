//! The Prometheus registry of one service and the series every service feeds: the latency of
//! the requests it answers, and what its event consumers did with each message.

use prometheus::core::Collector;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

/// Latency buckets shared by requests and event handlers: 1 ms to 5 s.
const SECONDS_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// What a consumer did with one attempt at handling a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    /// The handler succeeded; the message is committed.
    Handled,
    /// The handler failed in a way that may pass; the message is tried again after a backoff.
    Retried,
    /// The handler refused the message or ran out of attempts; it went to `<topic>.dlq`.
    DeadLettered,
}

impl EventOutcome {
    fn label(self) -> &'static str {
        match self {
            EventOutcome::Handled => "handled",
            EventOutcome::Retried => "retried",
            EventOutcome::DeadLettered => "dead_lettered",
        }
    }
}

/// One service's registry (each service serves its own on `/metrics`). Cheap to clone: clones
/// share the registry and its metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    request_duration: HistogramVec,
    events_handled: IntCounterVec,
    events_retried: IntCounterVec,
    events_dead_lettered: IntCounterVec,
    event_handler_duration: HistogramVec,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let request_duration = register(
            &registry,
            histogram(
                "photoshare_request_duration_seconds",
                "Time to answer a request, by service, protocol, route and outcome.",
                &["service", "protocol", "route", "status"],
            ),
        );
        let event_labels = &["group", "topic"];
        let events_handled = register(
            &registry,
            counter(
                "photoshare_events_handled_total",
                "Messages a consumer handled and committed, by consumer group and topic.",
                event_labels,
            ),
        );
        let events_retried = register(
            &registry,
            counter(
                "photoshare_events_retried_total",
                "Failed attempts that a consumer will try again, by consumer group and topic.",
                event_labels,
            ),
        );
        let events_dead_lettered = register(
            &registry,
            counter(
                "photoshare_events_dead_lettered_total",
                "Messages a consumer sent to <topic>.dlq, by consumer group and topic.",
                event_labels,
            ),
        );
        let event_handler_duration = register(
            &registry,
            histogram(
                "photoshare_event_handler_duration_seconds",
                "Time of one attempt at handling a message, by consumer group, topic and outcome.",
                &["group", "topic", "outcome"],
            ),
        );
        Metrics {
            registry,
            request_duration,
            events_handled,
            events_retried,
            events_dead_lettered,
            event_handler_duration,
        }
    }

    /// Records one answered request. `route` must be a pattern (`/v1/users/{username}`), never
    /// a raw path, or every username becomes a time series.
    pub fn observe_request(
        &self,
        service: &str,
        protocol: &str,
        route: &str,
        status: &str,
        seconds: f64,
    ) {
        self.request_duration
            .with_label_values(&[service, protocol, route, status])
            .observe(seconds);
    }

    /// Records one attempt of consumer `group` at a message of `topic`, which took `seconds`.
    pub fn observe_event(&self, group: &str, topic: &str, outcome: EventOutcome, seconds: f64) {
        let counter = match outcome {
            EventOutcome::Handled => &self.events_handled,
            EventOutcome::Retried => &self.events_retried,
            EventOutcome::DeadLettered => &self.events_dead_lettered,
        };
        counter.with_label_values(&[group, topic]).inc();
        self.event_handler_duration
            .with_label_values(&[group, topic, outcome.label()])
            .observe(seconds);
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The registry in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding into memory cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}

fn histogram(name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    HistogramVec::new(
        HistogramOpts::new(name, help).buckets(SECONDS_BUCKETS.to_vec()),
        labels,
    )
    .expect("the histogram options are valid")
}

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("the counter options are valid")
}

fn register<C: Collector + Clone + 'static>(registry: &Registry, collector: C) -> C {
    registry
        .register(Box::new(collector.clone()))
        .expect("each name is registered once on a fresh registry");
    collector
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_requests_show_up_in_the_exposition() {
        let metrics = Metrics::new();
        metrics.observe_request("gateway", "http", "/v1/me", "200", 0.003);
        let text = metrics.render();
        assert!(text.contains("photoshare_request_duration_seconds_count{protocol=\"http\",route=\"/v1/me\",service=\"gateway\",status=\"200\"} 1"), "{text}");
    }

    #[test]
    fn event_outcomes_are_counted_per_topic() {
        let metrics = Metrics::new();
        metrics.observe_event("g", "photo.uploaded", EventOutcome::Retried, 0.01);
        metrics.observe_event("g", "photo.uploaded", EventOutcome::Handled, 0.02);
        metrics.observe_event("g", "photo.deleted", EventOutcome::DeadLettered, 0.03);
        let text = metrics.render();
        for line in [
            "photoshare_events_retried_total{group=\"g\",topic=\"photo.uploaded\"} 1",
            "photoshare_events_handled_total{group=\"g\",topic=\"photo.uploaded\"} 1",
            "photoshare_events_dead_lettered_total{group=\"g\",topic=\"photo.deleted\"} 1",
            "photoshare_event_handler_duration_seconds_count{group=\"g\",outcome=\"handled\",topic=\"photo.uploaded\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from {text}");
        }
        assert!(
            !text.contains("photoshare_events_handled_total{group=\"g\",topic=\"photo.deleted\"}")
        );
    }
}
