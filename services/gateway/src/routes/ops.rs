//! `/livez`, `/readyz`, `/metrics` of the gateway.

use actix_web::{web, HttpResponse};
use tokio::time::{timeout, Duration};

use crate::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/livez", tag = "ops",
    responses((status = 200, description = "`ok`", content_type = "text/plain")))]
pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Ready when every service the API needs answers: users (and the token keys are loaded) and
/// media. Each check has 2 s; the answer names what is missing.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses(
        (status = 200, description = "`ready`", content_type = "text/plain"),
        (status = 503, description = "`not ready: ` and what is missing", content_type = "text/plain"),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let limit = Duration::from_secs(2);
    let users = timeout(limit, state.keys.fetch());
    // An empty batch reaches the media service without touching its database.
    let mut media_client = state.media.clone();
    let media = timeout(
        limit,
        media_client
            .batch_get_photos(photoshare_proto::media::v1::BatchGetPhotosRequest::default()),
    );
    let (users, media) = tokio::join!(users, media);
    let mut problems = Vec::new();
    match users {
        Ok(Ok(())) => {}
        Ok(Err(status)) => problems.push(format!("users service: {}", status.message())),
        Err(_) => problems.push("users service did not answer within 2 s".to_owned()),
    }
    match media {
        Ok(Ok(_)) => {}
        Ok(Err(status)) => problems.push(format!("media service: {}", status.message())),
        Err(_) => problems.push("media service did not answer within 2 s".to_owned()),
    }
    if problems.is_empty() {
        HttpResponse::Ok().content_type("text/plain").body("ready")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("not ready: {}", problems.join("; ")))
    }
}

/// Prometheus metrics of the gateway.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
