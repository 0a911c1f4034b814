//! `/livez`, `/readyz` and `/metrics`: an axum router served on a gRPC service's own port (tonic
//! accepts HTTP/1.1 for it) or alone on a worker's port, and the readiness it reports.

use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use futures::future::BoxFuture;
use photoshare_db::Database;
use photoshare_storage::ObjectStore;
use photoshare_telemetry::Metrics;

/// What a service checks before it says it can take traffic (its database, its peers).
pub trait Readiness: Send + Sync + 'static {
    /// `Err` names the dependency that is not reachable.
    fn check(&self) -> BoxFuture<'_, Result<(), String>>;
}

/// The checks of everything a service's context opened, plus any the service adds: ready when
/// every one passes.
#[derive(Clone, Default)]
pub(crate) struct Checks(Arc<Mutex<Vec<Arc<dyn Readiness>>>>);

impl Checks {
    pub(crate) fn add(&self, check: Arc<dyn Readiness>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(check);
    }
}

impl Readiness for Checks {
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        // Copied out, so that no lock is held across the awaits.
        let checks = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Box::pin(async move {
            for check in &checks {
                check.check().await?;
            }
            Ok(())
        })
    }
}

/// A database is ready when it answers a trivial query.
impl Readiness for Database {
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.ping()
                .await
                .map_err(|error| format!("database: {error}"))
        })
    }
}

/// Object storage is ready when the bucket answers.
impl Readiness for ObjectStore {
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.ping()
                .await
                .map_err(|error| format!("object storage: {error}"))
        })
    }
}

#[derive(Clone)]
struct OpsState {
    readiness: Arc<dyn Readiness>,
    metrics: Metrics,
}

/// `/livez` (the process answers), `/readyz` (`readiness` passes) and `/metrics` (`metrics` in
/// the Prometheus text format).
pub(crate) fn ops_router(readiness: Arc<dyn Readiness>, metrics: Metrics) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .with_state(OpsState { readiness, metrics })
}

async fn readyz(State(state): State<OpsState>) -> impl IntoResponse {
    match state.readiness.check().await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}"),
        ),
    }
}

async fn render_metrics(State(state): State<OpsState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
