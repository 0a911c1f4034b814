//! The REST gateway: the `/v1` JSON API of the mobile app (API.md), its OpenAPI document and
//! docs page, token checks, rate limits and problem+json errors, over the internal services'
//! gRPC APIs.
//!
//! It owns no data and keeps no state beyond caches: every answer comes from a service. It is
//! the only crate that knows actix-web and the public JSON shapes.

pub mod authn;
pub mod body;
pub mod clients;
pub mod hydrate;
pub mod idempotency;
mod middleware;
pub mod models;
pub mod problem;
pub mod rate_limit;
pub mod revocation;
pub mod routes;
pub mod state;
pub mod visibility;

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, App, HttpServer, ResponseError};
use photoshare_config::Config;
use photoshare_proto::ErrorCode;
use photoshare_telemetry::Metrics;
use tokio_util::sync::CancellationToken;

use crate::authn::KeyCache;
use crate::problem::ApiError;
use crate::rate_limit::RateLimits;
use crate::revocation::Denylist;
use crate::routes::ops::MetricsAccess;
use crate::state::AppState;

pub const SERVICE: &str = "gateway";

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Client(#[from] clients::ClientError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("HTTP server failed: {0}")]
    Server(std::io::Error),
}

/// Runs the gateway on the configured address until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    let listener =
        std::net::TcpListener::bind(config.gateway.listen).map_err(|source| ServeError::Bind {
            addr: config.gateway.listen.to_string(),
            source,
        })?;
    serve(listener, config, shutdown).await
}

/// Serves on `listener` until `shutdown` is cancelled, then finishes in-flight requests.
pub async fn serve(
    listener: std::net::TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let gateway = &config.gateway;
    let timeout = Duration::from_millis(gateway.request_timeout_ms);
    let users = clients::users(&gateway.users_url, timeout)?;
    let media = clients::media(&gateway.media_url, timeout)?;
    let graph = clients::graph(&gateway.graph_url, timeout)?;
    let engagement = clients::engagement(&gateway.engagement_url, timeout)?;
    let feed = clients::feed(&gateway.feed_url, timeout)?;
    let keys = Arc::new(KeyCache::new(
        users.clone(),
        config.auth.issuer.clone(),
        config.auth.audience.clone(),
    ));
    if let Err(status) = keys.fetch().await {
        // Not fatal: the users service may start after us; /readyz reports it until then.
        tracing::warn!(message = status.message(), "token keys not loaded yet");
    }
    let state = web::Data::new(AppState {
        users,
        media,
        graph,
        engagement,
        feed,
        keys,
        revocations: Denylist::new(Duration::from_millis(gateway.revocation_stale_after_ms)),
        rate_limits: RateLimits::from_config(&config),
        metrics: Metrics::new(),
        metrics_access: MetricsAccess::from_config(gateway),
    });
    spawn_rate_limit_housekeeping(state.clone(), shutdown.clone());
    revocation::spawn_sync(
        state.clone(),
        Duration::from_millis(gateway.revocation_poll_ms),
        shutdown.clone(),
    );

    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let server = build_server(listener, state, gateway).map_err(|source| ServeError::Bind {
        addr: addr.clone(),
        source,
    })?;
    let handle = server.handle();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        handle.stop(true).await;
    });
    tracing::info!(%addr, "gateway listening");
    server.await.map_err(ServeError::Server)?;
    tracing::info!("gateway stopped");
    Ok(())
}

/// The actix server, built outside any `async` block: its builder types are `!Send`, and only
/// the returned [`actix_web::dev::Server`] handle may live across an await.
fn build_server(
    listener: std::net::TcpListener,
    state: web::Data<AppState>,
    gateway: &photoshare_config::GatewayConfig,
) -> std::io::Result<actix_web::dev::Server> {
    let body_limit = gateway.body_limit_bytes;
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit)
                    .error_handler(problem::json_error),
            )
            .app_data(web::PathConfig::default().error_handler(problem::path_error))
            .app_data(web::QueryConfig::default().error_handler(problem::query_error))
            .wrap(ErrorHandlers::new().handler(StatusCode::METHOD_NOT_ALLOWED, method_not_allowed))
            .wrap(from_fn(middleware::observe))
            .wrap(from_fn(middleware::security_headers))
            .configure(routes::configure)
            .default_service(web::to(not_found))
    })
    .disable_signals()
    .shutdown_timeout(10);
    if let Some(workers) = gateway.workers {
        server = server.workers(workers.max(1));
    }
    Ok(server.listen(listener)?.run())
}

fn spawn_rate_limit_housekeeping(state: web::Data<AppState>, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => state.rate_limits.forget_idle(),
            }
        }
    });
}

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found("no such resource"))
}

fn method_not_allowed<B>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let (request, _) = response.into_parts();
    let problem = ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this method is not allowed here",
    )
    .error_response();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, problem).map_into_right_body(),
    ))
}
