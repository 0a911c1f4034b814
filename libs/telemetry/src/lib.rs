//! Observability and lifecycle plumbing shared by every photoshare service: JSON logs with a
//! request id on every line, OpenTelemetry traces carried through gRPC metadata as W3C
//! `traceparent` (exported over OTLP when configured), Prometheus metrics, the `/livez`,
//! `/readyz` and `/metrics` endpoints, and the shutdown signal.
//!
//! This crate knows no service and no business rule; services hand it what to check for
//! readiness and it serves the answer.

pub mod grpc;
pub mod logging;
pub mod metrics;
pub mod ops;
pub mod propagation;
pub mod request_id;
pub mod shutdown;

pub use logging::{init, TelemetryError, TelemetryGuard};
pub use metrics::Metrics;
pub use ops::{ops_router, Readiness};
pub use shutdown::{cancel_on_signal, shutdown_signal};
