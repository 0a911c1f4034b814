//! `spawn_app` and request helpers (the zero2prod pattern).

use std::path::PathBuf;
use std::sync::Once;

use photoshare::dev::DevApp;
use photoshare_config::Config;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async scenario `fn name(backend: Backend)` once per backend, as two tests.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),+ $(,)?) => {
        $(mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario($crate::helpers::Backend::Postgres).await
            }
        })+
    };
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub config: Config,
    app: Option<DevApp>,
    /// The Kafka broker of a PostgreSQL run (production-like backends), kept alive with the app.
    _kafka: Option<std::sync::Arc<photoshare_test_support::KafkaBroker>>,
    /// Kept so the directory lives as long as the app (and across restarts).
    _data_dir: std::sync::Arc<tempfile::TempDir>,
}

fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let telemetry = photoshare_config::TelemetryConfig {
                log_format: photoshare_config::LogFormat::Text,
                ..Default::default()
            };
            std::mem::forget(photoshare_telemetry::init("test", &telemetry).unwrap());
        }
    });
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    init_logs();
    let postgres = backend == Backend::Postgres;
    let (mut config, data_dir) = photoshare_test_support::service_config(postgres).await;
    let data_dir = std::sync::Arc::new(data_dir);
    config.gateway.listen = "127.0.0.1:0".parse().unwrap();
    config.gateway.workers = Some(1);
    // Tests sign up many accounts from 127.0.0.1; the rate-limit test lowers this again.
    config.gateway.auth_rate_limit_per_minute = 10_000;
    let mut kafka = None;
    if postgres {
        let broker = photoshare_test_support::KafkaBroker::start().await;
        config.backends.kafka_brokers = Some(broker.bootstrap());
        // tansu makes a consumer wait about half the session timeout to join a group.
        config.events.kafka_session_timeout_ms = 1000;
        kafka = Some(std::sync::Arc::new(broker));
        // The production-like run keeps feeds in Redis, under keys of its own.
        config.backends.redis_url = Some(photoshare_test_support::require_redis().await);
        config.feed.redis_key_prefix = format!("{}:", photoshare_test_support::unique_name("api"));
    }
    adjust(&mut config);
    start(config, data_dir, kafka).await
}

async fn start(
    config: Config,
    data_dir: std::sync::Arc<tempfile::TempDir>,
    kafka: Option<std::sync::Arc<photoshare_test_support::KafkaBroker>>,
) -> TestApp {
    let app = DevApp::start(config.clone())
        .await
        .expect("photoshare dev starts");
    TestApp {
        base: format!("http://{}", app.addr),
        client: reqwest::Client::new(),
        config,
        app: Some(app),
        _kafka: kafka,
        _data_dir: data_dir,
    }
}

impl TestApp {
    /// Stops every service and starts them again on the same data.
    pub async fn restart(mut self) -> TestApp {
        self.app.take().unwrap().stop().await.expect("a clean stop");
        start(
            self.config.clone(),
            self._data_dir.clone(),
            self._kafka.clone(),
        )
        .await
    }

    /// Kills every service mid-flight (nothing drains or commits), then starts them again.
    pub async fn crash_and_restart(mut self) -> TestApp {
        self.app.take().unwrap().crash().await;
        start(
            self.config.clone(),
            self._data_dir.clone(),
            self._kafka.clone(),
        )
        .await
    }

    /// The gRPC URL of the internal service `name` (`users`, `media`, ...) of the dev app.
    pub fn service_url(&self, name: &str) -> String {
        let addr = self
            .app
            .as_ref()
            .unwrap()
            .service_addr(name)
            .expect("a service of the dev app");
        format!("http://{addr}")
    }

    /// How many calls of gRPC `method` (e.g. `/photoshare.users.v1.Users/BatchGetUsers`) the
    /// internal service `service` has answered, from its own `/metrics`.
    pub async fn grpc_calls(&self, service: &str, method: &str) -> u64 {
        let addr = self
            .app
            .as_ref()
            .unwrap()
            .service_addr(service)
            .expect("a service of the dev app");
        let text = self
            .client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .filter(|line| {
                line.starts_with("photoshare_request_duration_seconds_count")
                    && line.contains(&format!("route=\"{method}\""))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    pub async fn put(&self, path: &str, token: &str) -> Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub fn signing_key_path(&self) -> PathBuf {
        self.config.auth.signing_key_path(&self.config.data_dir)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_authed(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Signs up `username` (email `<username>@example.com`, a fixed password); returns the Session.
    pub async fn signup(&self, username: &str) -> Value {
        let response = self
            .post(
                "/v1/auth/signup",
                &json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "signup of {username}"
        );
        response.json().await.unwrap()
    }
}

pub const PASSWORD: &str = "correct horse battery";

/// Asserts an RFC 9457 problem with `status` and `code`; returns the body.
pub async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status for expected `{code}`"
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["title"].is_string() && body["detail"].is_string() && body["type"].is_string(),
        "{body}"
    );
    body
}

pub fn token(session: &Value) -> &str {
    session["access_token"].as_str().expect("an access token")
}

pub fn refresh_token(session: &Value) -> &str {
    session["refresh_token"].as_str().expect("a refresh token")
}
