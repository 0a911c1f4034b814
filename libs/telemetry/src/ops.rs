//! `/livez`, `/readyz` and `/metrics` for services that speak gRPC: an axum router that is
//! served on the same port as the gRPC service (tonic accepts HTTP/1.1 for it).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use futures::future::BoxFuture;

use crate::Metrics;

/// What a service checks before it says it can take traffic (its database, its peers).
pub trait Readiness: Send + Sync + 'static {
    /// `Err` names the dependency that is not reachable.
    fn check(&self) -> BoxFuture<'_, Result<(), String>>;
}

#[derive(Clone)]
struct OpsState {
    readiness: Arc<dyn Readiness>,
    metrics: Metrics,
}

pub fn ops_router(readiness: Arc<dyn Readiness>, metrics: Metrics) -> Router {
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
