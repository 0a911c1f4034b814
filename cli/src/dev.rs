//! `photoshare dev`: every service in one process. Internal services listen on loopback ports
//! chosen by the OS; the gateway listens where asked. The data lives under `data_dir` — SQLite
//! databases, the event log, and the objects behind an embedded S3-protocol server — or on the
//! servers named by `PHOTOSHARE_POSTGRES_URL`, `PHOTOSHARE_KAFKA_BROKERS` and `PHOTOSHARE_S3_*`,
//! and survives restarts.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use photoshare_config::Config;
use photoshare_storage::{EmbeddedS3, EmbeddedS3Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running dev stack.
pub struct DevApp {
    /// Where the gateway listens.
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    tasks: Vec<ServiceTask>,
    /// The embedded object store, when no S3 was configured.
    embedded_s3: Option<EmbeddedS3>,
    /// Where each internal gRPC service listens (its `/metrics` is there too).
    services: Vec<(&'static str, SocketAddr)>,
}

/// The bucket of the embedded object store.
const EMBEDDED_BUCKET: &str = "photoshare";

impl DevApp {
    /// Where the internal gRPC service `name` listens, if it runs in this process.
    pub fn service_addr(&self, name: &str) -> Option<SocketAddr> {
        self.services
            .iter()
            .find(|(service, _)| *service == name)
            .map(|(_, addr)| *addr)
    }

    /// Starts every service and waits until the gateway's `/readyz` passes.
    pub async fn start(mut config: Config) -> anyhow::Result<DevApp> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();
        let mut services = Vec::new();

        let (storage, embedded_s3) = match config.backends.s3_bucket {
            Some(_) => (
                photoshare_storage::settings_from_config(&config.backends)?,
                None,
            ),
            None => {
                let embedded = EmbeddedS3::start(
                    EmbeddedS3Config::new(config.data_dir.join("objects"), EMBEDDED_BUCKET),
                    shutdown.clone(),
                )
                .await
                .context("starting the embedded object store")?;
                (embedded.settings(), Some(embedded))
            }
        };
        let bus = photoshare_events::bus_from_config(&config)
            .await
            .context("opening the event bus")?;

        let users_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the users port")?;
        config.gateway.users_url = format!("http://{}", users_listener.local_addr()?);
        services.push(("users", users_listener.local_addr()?));
        tasks.push(spawn_service(
            "users",
            photoshare_users::serve(users_listener, config.clone(), shutdown.clone()),
        ));

        let media_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the media port")?;
        config.gateway.media_url = format!("http://{}", media_listener.local_addr()?);
        config.image_worker.media_url = config.gateway.media_url.clone();
        services.push(("media", media_listener.local_addr()?));
        tasks.push(spawn_service(
            "media",
            photoshare_media::serve(
                media_listener,
                config.clone(),
                storage.clone(),
                bus.clone(),
                shutdown.clone(),
            ),
        ));

        let graph_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the graph port")?;
        config.gateway.graph_url = format!("http://{}", graph_listener.local_addr()?);
        services.push(("graph", graph_listener.local_addr()?));
        tasks.push(spawn_service(
            "graph",
            photoshare_graph::serve(
                graph_listener,
                config.clone(),
                bus.clone(),
                shutdown.clone(),
            ),
        ));

        let engagement_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the engagement port")?;
        config.gateway.engagement_url = format!("http://{}", engagement_listener.local_addr()?);
        services.push(("engagement", engagement_listener.local_addr()?));
        tasks.push(spawn_service(
            "engagement",
            photoshare_engagement::serve(
                engagement_listener,
                config.clone(),
                bus.clone(),
                shutdown.clone(),
            ),
        ));

        // The feed service runs its fan-out worker in process: one process, one cache.
        let feed_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the feed port")?;
        config.feed.graph_url = config.gateway.graph_url.clone();
        config.gateway.feed_url = format!("http://{}", feed_listener.local_addr()?);
        services.push(("feed", feed_listener.local_addr()?));
        let feed_stores = photoshare_feed::Stores::open(&config)
            .await
            .context("opening the feed stores")?;
        tasks.push(spawn_service(
            "feed",
            photoshare_feed::serve(
                feed_listener,
                config.clone(),
                feed_stores,
                Some(bus.clone()),
                shutdown.clone(),
            ),
        ));

        let worker_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the worker port")?;
        tasks.push(spawn_service(
            "image-worker",
            photoshare_image_worker::serve(
                worker_listener,
                config.clone(),
                storage,
                bus,
                shutdown.clone(),
            ),
        ));

        let gateway_listener = std::net::TcpListener::bind(config.gateway.listen)
            .with_context(|| format!("binding the gateway to {}", config.gateway.listen))?;
        let addr = gateway_listener.local_addr()?;
        tasks.push(spawn_service(
            "gateway",
            photoshare_gateway::serve(gateway_listener, config, shutdown.clone()),
        ));

        let app = DevApp {
            addr,
            shutdown,
            tasks,
            embedded_s3,
            services,
        };
        app.wait_ready(Duration::from_secs(30)).await?;
        Ok(app)
    }

    async fn wait_ready(&self, limit: Duration) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some((name, _)) = self.tasks.iter().find(|(_, task)| task.is_finished()) {
                bail!("the {name} service stopped during start-up (see the log above)");
            }
            if http_status(self.addr, "/readyz").await == Some(200) {
                return Ok(());
            }
            if started.elapsed() > limit {
                bail!("not ready after {limit:?}: GET /readyz never answered 200");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Resolves when a service stops on its own (an error), with that error.
    pub async fn wait_for_failure(&mut self) -> anyhow::Result<()> {
        let tasks = self.tasks.iter_mut().map(|(name, task)| {
            let name = *name;
            Box::pin(async move { (name, task.await) })
        });
        let ((name, outcome), _, _) = futures::future::select_all(tasks).await;
        match outcome {
            Ok(Ok(())) => bail!("the {name} service stopped"),
            Ok(Err(error)) => Err(error),
            Err(join_error) => bail!("the {name} service panicked: {join_error}"),
        }
    }

    /// Stops every service at once, as a crash would: in-flight work is dropped without being
    /// finished or committed. For tests of what survives a crash.
    pub async fn crash(self) {
        for (_, task) in &self.tasks {
            task.abort();
        }
        for (_, task) in self.tasks {
            let _ = task.await;
        }
        self.shutdown.cancel();
        if let Some(embedded) = self.embedded_s3 {
            embedded.stop().await;
        }
    }

    /// Stops every service gracefully and waits for them.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        for (name, task) in self.tasks {
            task.await
                .with_context(|| format!("the {name} service panicked"))?
                .with_context(|| format!("the {name} service failed while stopping"))?;
        }
        if let Some(embedded) = self.embedded_s3 {
            embedded.stop().await;
        }
        Ok(())
    }
}

type ServiceTask = (&'static str, JoinHandle<anyhow::Result<()>>);

fn spawn_service<E>(
    name: &'static str,
    serve: impl std::future::Future<Output = Result<(), E>> + Send + 'static,
) -> ServiceTask
where
    E: std::error::Error + Send + Sync + 'static,
{
    (
        name,
        tokio::spawn(async move { serve.await.with_context(|| format!("{name} service")) }),
    )
}

/// The status code of a plain HTTP/1.1 GET, or `None` if nothing sensible answered. Enough to
/// poll `/readyz` without pulling an HTTP client into the binary.
async fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(3), attempt)
        .await
        .ok()
        .flatten()
}
