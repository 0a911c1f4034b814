//! A second gateway replica for a test: `photoshare_gateway::SPEC` served on another port, over the
//! same internal services (and the same Redis) as the dev app's own gateway, as a second pod
//! behind a load balancer would be.

use std::time::{Duration, Instant};

use reqwest::Response;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::helpers::TestApp;

pub struct Replica {
    pub base: String,
    client: reqwest::Client,
    shutdown: CancellationToken,
}

impl Replica {
    /// Starts a gateway configured like `app`'s, pointed at `app`'s services; returns once its
    /// `/readyz` passes (so it has read the revocations too).
    pub async fn start(app: &TestApp) -> Replica {
        let mut config = app.config.clone();
        config.gateway.users_url = app.service_url("users");
        config.gateway.media_url = app.service_url("media");
        config.gateway.graph_url = app.service_url("graph");
        config.gateway.engagement_url = app.service_url("engagement");
        config.gateway.feed_url = app.service_url("feed");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(photoshare_runtime::serve(
            &photoshare_gateway::SPEC,
            listener,
            config,
            photoshare_runtime::SharedBackends::default(),
            shutdown.clone(),
        ));
        let replica = Replica {
            base,
            client: reqwest::Client::new(),
            shutdown,
        };
        let started = Instant::now();
        loop {
            assert!(!task.is_finished(), "the second gateway stopped");
            let ready = replica
                .client
                .get(replica.url("/readyz"))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200);
            if ready {
                return replica;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the second gateway is not ready after 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.send(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(reqwest::Method::POST, path, None, Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.send(reqwest::Method::PATCH, path, Some(token), Some(body))
            .await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request sent")
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Asks `status_of` until it answers `expected`, for at most `limit`; the answers seen are in
/// the panic message if it never does. For effects that are promised within a bound (a
/// revocation reaching every gateway), not at once.
pub async fn eventually<F, Fut>(limit: Duration, expected: u16, mut status_of: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        let status = status_of().await;
        if status == expected {
            return;
        }
        if seen.last() != Some(&status) {
            seen.push(status);
        }
        assert!(
            started.elapsed() < limit,
            "still not {expected} after {limit:?}; answers seen: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
