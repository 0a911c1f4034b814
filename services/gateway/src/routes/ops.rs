//! `/livez`, `/readyz`, `/metrics` of the gateway.

use actix_web::{web, HttpResponse};
use tokio::time::{timeout, Duration};

use crate::state::AppState;

pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Ready when the users service answers and the token keys are loaded.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match timeout(Duration::from_secs(2), state.keys.fetch()).await {
        Ok(Ok(())) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Ok(Err(status)) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("not ready: users service: {}", status.message())),
        Err(_) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("not ready: users service did not answer within 2 s"),
    }
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
