//! Observability shared by every photoshare service: JSON logs with a request id on every line,
//! OpenTelemetry traces carried through gRPC metadata and event headers as W3C `traceparent`
//! (exported over OTLP when configured), and each service's Prometheus registry with the series
//! every service feeds (request latency, event consumer outcomes).
//!
//! It observes and must not run anything: it knows no service, no business rule, and does not
//! start servers, bind ports or handle signals (that is `photoshare-runtime`).

pub mod grpc;
pub mod logging;
pub mod metrics;
pub mod propagation;
pub mod request_id;

pub use logging::{init, TelemetryError, TelemetryGuard};
pub use metrics::{EventOutcome, Metrics};
