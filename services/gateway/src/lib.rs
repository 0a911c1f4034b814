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
use photoshare_proto::ErrorCode;
use photoshare_runtime::{Dev, RuntimeError, ServiceContext, ServiceSpec};
use tokio_util::sync::CancellationToken;

use crate::authn::KeyCache;
use crate::problem::ApiError;
use crate::rate_limit::RateLimits;
use crate::revocation::Denylist;
use crate::routes::ops::MetricsAccess;
use crate::state::AppState;

/// The gateway: no database, no bus; it reaches every service over gRPC at the configured
/// URLs. `photoshare serve gateway`; `photoshare dev` runs it on `--listen`.
pub static SPEC: ServiceSpec = ServiceSpec {
    name: "gateway",
    database: None,
    outbox_relay: false,
    listen: |config| config.gateway.listen,
    dev: Dev::Configured,
    start: |context| Box::pin(start(context)),
};

/// Serves the API on the context's listener until shutdown, then finishes in-flight requests.
async fn start(mut context: ServiceContext) -> Result<(), RuntimeError> {
    let listener = context
        .take_listener()?
        .into_std()
        .map_err(|source| RuntimeError::Server {
            what: "HTTP",
            source,
        })?;
    let config = context.config();
    let gateway = &config.gateway;
    let timeout = Duration::from_millis(gateway.request_timeout_ms);
    let client_error = RuntimeError::service;
    let users = clients::users(&gateway.users_url, timeout).map_err(client_error)?;
    let media = clients::media(&gateway.media_url, timeout).map_err(client_error)?;
    let graph = clients::graph(&gateway.graph_url, timeout).map_err(client_error)?;
    let engagement = clients::engagement(&gateway.engagement_url, timeout).map_err(client_error)?;
    let feed = clients::feed(&gateway.feed_url, timeout).map_err(client_error)?;
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
        rate_limits: RateLimits::from_config(config),
        metrics: context.metrics(),
        metrics_access: MetricsAccess::from_config(gateway),
    });
    context.spawn(
        "rate-limit housekeeping",
        forget_idle_rate_limits(state.clone(), context.shutdown()),
    );
    context.spawn(
        "token revocation sync",
        revocation::keep_in_sync(
            state.clone(),
            Duration::from_millis(gateway.revocation_poll_ms),
            context.shutdown(),
        ),
    );

    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let server = build_server(listener, state, gateway).map_err(|source| RuntimeError::Bind {
        addr: addr.clone(),
        source,
    })?;
    let handle = server.handle();
    let shutdown = context.shutdown();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        handle.stop(true).await;
    });
    tracing::info!(%addr, "gateway listening");
    server.await.map_err(|source| RuntimeError::Server {
        what: "HTTP",
        source,
    })
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

async fn forget_idle_rate_limits(
    state: web::Data<AppState>,
    shutdown: CancellationToken,
) -> Result<(), RuntimeError> {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tick.tick() => state.rate_limits.forget_idle(),
        }
    }
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
