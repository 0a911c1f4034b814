//! `photoshare dev`: every service of [`crate::SERVICES`] in one process. Internal services
//! listen on loopback ports chosen by the OS and reach each other over real gRPC; the gateway
//! listens where asked. The data lives under `data_dir` — SQLite databases, the event log, and
//! the objects behind an embedded S3-protocol server — or on the servers named by
//! `PHOTOSHARE_POSTGRES_URL`, `PHOTOSHARE_KAFKA_BROKERS`, `PHOTOSHARE_S3_*` and
//! `PHOTOSHARE_REDIS_URL`, and survives restarts.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use photoshare_config::Config;
use photoshare_runtime::{RuntimeError, SharedBackends};
use photoshare_storage::EmbeddedS3;
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
    /// Where each service listens (its `/metrics` is there too).
    services: Vec<(&'static str, SocketAddr)>,
}

type ServiceTask = (&'static str, JoinHandle<Result<(), RuntimeError>>);

impl DevApp {
    /// Where the service `name` listens, if it runs in this process.
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
        let (shared, embedded_s3) = SharedBackends::for_dev(&config, shutdown.clone())
            .await
            .context("opening the event bus and the object store")?;

        // Every port first, so that each service starts knowing where all the others are.
        let mut bound = Vec::new();
        for spec in crate::SERVICES {
            if let Some(listener) = photoshare_runtime::bind_for_dev(spec, &mut config).await? {
                bound.push((*spec, listener));
            }
        }
        let mut services = Vec::new();
        let mut tasks = Vec::new();
        for (spec, listener) in bound {
            services.push((spec.name, listener.local_addr()?));
            let serve = photoshare_runtime::serve(
                spec,
                listener,
                config.clone(),
                shared.clone(),
                shutdown.clone(),
            );
            tasks.push((spec.name, tokio::spawn(serve)));
        }

        let gateway = photoshare_gateway::SPEC.name;
        let app = DevApp {
            addr: services
                .iter()
                .find(|(name, _)| *name == gateway)
                .map(|(_, addr)| *addr)
                .context("the registry has no gateway")?,
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
            Ok(Err(error)) => Err(error).with_context(|| format!("{name} service")),
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
