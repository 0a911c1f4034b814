//! Starting a photoshare service, the same way for all of them. A service crate describes itself
//! in one static [`ServiceSpec`] (its name, its database and migrations, whether it relays an
//! outbox, where it listens, how `photoshare dev` runs it, and its `start` function); the
//! binary lists the specs once, and `dev`, `serve` and `migrate` iterate that list.
//!
//! The runtime opens what a spec declares, resolves backends from the configured URLs
//! ([`resolve`], the only place that reads `config.backends`), hands the service a
//! [`ServiceContext`] (configuration, listener, database, bus, object store, feed stores, ids,
//! its own metrics registry, its shutdown token, gRPC and ops serving, consumers), and on every
//! exit — success, error or panic — stops accepting, drains, stops the service's tasks, stops the
//! relay and closes the database, in that order. A panic is reported as a failure, never as a
//! clean stop.
//!
//! It knows no service: it must not depend on any service crate, and it holds no business rule.

mod context;
mod error;
mod grpc;
mod ops;
pub mod resolve;
mod serve;
mod signal;
mod spec;
mod tasks;

pub use context::{ServiceContext, SharedBackends};
pub use error::RuntimeError;
pub use grpc::lazy_channel;
pub use ops::Readiness;
pub use resolve::FeedStores;
pub use serve::{bind_for_dev, main, migrate, open_database, run, serve, serve_configured};
pub use signal::shutdown_signal;
pub use spec::{DatabaseSpec, Dev, ServiceSpec};

/// Re-exported so that a spec can write `start: |context| Box::pin(start(context))`.
pub use futures::future::BoxFuture;
