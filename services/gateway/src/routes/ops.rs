//! `/livez`, `/readyz`, `/metrics` of the gateway.
//!
//! The gateway's port is the public API port, so `/metrics` is not for everyone: it answers
//! requests that carry the configured metrics token, and requests straight from loopback or a
//! private network (an in-cluster Prometheus) that no proxy forwarded. Anything else gets 403.

use std::net::IpAddr;

use actix_web::{web, HttpRequest, HttpResponse};
use photoshare_config::GatewayConfig;
use photoshare_proto::ErrorCode;
use tokio::time::{timeout, Duration};

use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/livez", tag = "ops",
    responses((status = 200, description = "`ok`", content_type = "text/plain")))]
pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Ready when every service the API needs answers: users (and the token keys are loaded) and
/// media; and the list of revoked tokens is fresh. Each check has 2 s; the answer names what is
/// missing.
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
    problems.extend(state.revocations.readiness_problem());
    if problems.is_empty() {
        HttpResponse::Ok().content_type("text/plain").body("ready")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("not ready: {}", problems.join("; ")))
    }
}

/// Prometheus metrics of the gateway: for requests with the metrics token
/// (`Authorization: Bearer`), or straight from loopback or a private network.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain"),
        (status = 403, description = "`forbidden`: neither the metrics token nor a direct request from a private network", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn metrics(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if !state.metrics_access.allows(&request) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "metrics are served with the metrics token, or to private networks directly",
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render()))
}

/// Who may read `/metrics`.
pub struct MetricsAccess {
    token: Option<String>,
    private_networks: bool,
}

impl MetricsAccess {
    pub fn from_config(gateway: &GatewayConfig) -> MetricsAccess {
        MetricsAccess {
            token: gateway
                .metrics_token
                .as_ref()
                .map(|token| token.expose().to_owned())
                .filter(|token| !token.is_empty()),
            private_networks: gateway.metrics_private,
        }
    }

    fn allows(&self, request: &HttpRequest) -> bool {
        let presented = request
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if let (Some(token), Some(presented)) = (&self.token, presented) {
            return constant_time_eq(token.as_bytes(), presented.trim().as_bytes());
        }
        // A proxy in front means the request came from further away than the peer address
        // says, whatever that address is.
        let forwarded = ["x-forwarded-for", "forwarded", "x-real-ip"]
            .iter()
            .any(|name| request.headers().contains_key(*name));
        self.private_networks
            && !forwarded
            && request
                .peer_addr()
                .is_some_and(|peer| is_private(peer.ip()))
    }
}

/// Loopback, RFC 1918, link-local and IPv6 unique-local addresses (IPv4-mapped ones included).
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private(IpAddr::V4(v4)),
            None => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
        },
    }
}

/// Compares without stopping at the first difference, so the time taken does not tell an
/// attacker how much of a guessed token was right.
fn constant_time_eq(expected: &[u8], presented: &[u8]) -> bool {
    expected.len() == presented.len()
        && expected
            .iter()
            .zip(presented)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn access(token: Option<&str>, private_networks: bool) -> MetricsAccess {
        MetricsAccess {
            token: token.map(str::to_owned),
            private_networks,
        }
    }

    fn from(peer: &str) -> TestRequest {
        TestRequest::default().peer_addr(peer.parse().unwrap())
    }

    #[test]
    fn private_peers_may_scrape_directly() {
        let open = access(None, true);
        for peer in [
            "127.0.0.1:9",
            "10.1.2.3:9",
            "192.168.0.7:9",
            "[::1]:9",
            "[fd00::1]:9",
        ] {
            assert!(open.allows(&from(peer).to_http_request()), "{peer}");
        }
        for peer in ["203.0.113.9:9", "[2001:db8::1]:9"] {
            assert!(!open.allows(&from(peer).to_http_request()), "{peer}");
        }
        let proxied = from("10.0.0.2:9")
            .insert_header(("x-forwarded-for", "203.0.113.9"))
            .to_http_request();
        assert!(!open.allows(&proxied), "through a proxy is from outside");
        assert!(!access(None, false).allows(&from("127.0.0.1:9").to_http_request()));
    }

    #[test]
    fn the_token_opens_metrics_from_anywhere() {
        let guarded = access(Some("s3cret"), false);
        let with = |token: &str| {
            from("203.0.113.9:9")
                .insert_header(("authorization", format!("Bearer {token}")))
                .to_http_request()
        };
        assert!(guarded.allows(&with("s3cret")));
        assert!(!guarded.allows(&with("s3cre")));
        assert!(!guarded.allows(&with("s3cret!")));
        assert!(!guarded.allows(&from("203.0.113.9:9").to_http_request()));
    }
}
