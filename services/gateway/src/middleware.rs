//! Around every HTTP request: a request id (the client's `X-Request-Id` if sane, else a new one)
//! in a span so that it is on every log line, echoed in the response; the latency histogram by
//! route pattern; one access log line ([`observe`]). And the headers every answer carries
//! ([`security_headers`]).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use photoshare_telemetry::request_id::{self, REQUEST_ID_HEADER};
use tracing::Instrument;

use crate::state::AppState;

pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|candidate| request_id::accept_client_id(candidate))
        .map(str::to_owned)
        .unwrap_or_else(request_id::generate);
    let method = request.method().to_string();
    let metrics = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.metrics.clone());
    let span =
        tracing::info_span!("http", request_id = %id, method = %method, path = %request.path());

    let result = request_id::scope(id.clone(), next.call(request).instrument(span.clone())).await;
    let mut response = result?;

    let status = response.status();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.observe_request(
            "gateway",
            "http",
            &route,
            status.as_str(),
            elapsed.as_secs_f64(),
        );
    }
    span.in_scope(|| {
        tracing::info!(status = status.as_u16(), route = %route, latency_ms = elapsed.as_secs_f64() * 1000.0, "request");
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

/// `X-Content-Type-Options: nosniff` on every answer, so no browser reads a JSON answer as
/// something else; and `Cache-Control: no-store` on every answer that does not say otherwise
/// (only the JWKS document does), so no cache keeps an account's data.
pub async fn security_headers(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::test::{call_service, init_service, TestRequest};
    use actix_web::{web, App, HttpResponse};

    use super::*;

    #[actix_web::test]
    async fn every_answer_is_nosniff_and_not_stored_unless_it_says_so() {
        let app = init_service(
            App::new()
                .wrap(from_fn(security_headers))
                .route("/plain", web::get().to(HttpResponse::Ok))
                .route(
                    "/cached",
                    web::get().to(|| async {
                        HttpResponse::Ok()
                            .insert_header(("cache-control", "public, max-age=300"))
                            .finish()
                    }),
                ),
        )
        .await;
        for (path, cache_control) in [
            ("/plain", "no-store"),
            ("/cached", "public, max-age=300"),
            ("/missing", "no-store"),
        ] {
            let response = call_service(&app, TestRequest::get().uri(path).to_request()).await;
            let header = |name: &str| response.headers().get(name).unwrap().to_str().unwrap();
            assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
            assert_eq!(header("cache-control"), cache_control, "{path}");
        }
    }
}
