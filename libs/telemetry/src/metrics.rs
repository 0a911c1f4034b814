//! The Prometheus registry of one process and the request latency histogram every service feeds.

use prometheus::{Encoder, HistogramOpts, HistogramVec, Registry, TextEncoder};

/// Cheap to clone: clones share the registry and its metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    request_duration: HistogramVec,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "photoshare_request_duration_seconds",
                "Time to answer a request, by service, protocol, route and outcome.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["service", "protocol", "route", "status"],
        )
        .expect("the histogram options are valid");
        registry
            .register(Box::new(request_duration.clone()))
            .expect("registered once on a fresh registry");
        Metrics {
            registry,
            request_duration,
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
}
