//! What a service gets when it starts: its configuration, its listener, what its spec declares
//! (opened by the runtime), the backends it asks for (resolved once per process), its own
//! metrics registry, its shutdown signal, and helpers to serve and to consume.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use photoshare_config::Config;
use photoshare_db::Database;
use photoshare_events::{Consumer, EventBus, Handler};
use photoshare_ids::{IdGenerator, WorkerId};
use photoshare_storage::{EmbeddedS3, ObjectStore, StorageSettings};
use photoshare_telemetry::Metrics;
use tokio::net::TcpListener;
use tokio::sync::{Notify, OnceCell};
use tokio_util::sync::CancellationToken;

use crate::ops::{ops_router, Checks, Readiness};
use crate::resolve::{self, FeedStores};
use crate::tasks::Tasks;
use crate::{RuntimeError, ServiceSpec};

/// Backends resolved once for every service of a process (`photoshare dev`, tests). What is set
/// here is used as it is; the rest is resolved from the configuration when a service asks.
#[derive(Clone, Default)]
pub struct SharedBackends {
    pub bus: Option<Arc<dyn EventBus>>,
    pub object_storage: Option<StorageSettings>,
}

impl SharedBackends {
    /// The backends of `photoshare dev`: the configured bus, and the configured bucket or else
    /// the embedded S3 server over the data directory (running until `shutdown`; stop it after
    /// the services with [`EmbeddedS3::stop`]).
    pub async fn for_dev(
        config: &Config,
        shutdown: CancellationToken,
    ) -> Result<(SharedBackends, Option<EmbeddedS3>), RuntimeError> {
        let (object_storage, embedded) = match resolve::object_storage(config)? {
            Some(settings) => (settings, None),
            None => {
                let embedded = resolve::embedded_object_storage(&config.data_dir, shutdown).await?;
                (embedded.settings(), Some(embedded))
            }
        };
        let shared = SharedBackends {
            bus: Some(resolve::event_bus(config).await?),
            object_storage: Some(object_storage),
        };
        Ok((shared, embedded))
    }

    /// Every service of this process publishes to and consumes from `bus`.
    pub fn with_bus(bus: Arc<dyn EventBus>) -> SharedBackends {
        SharedBackends {
            bus: Some(bus),
            object_storage: None,
        }
    }
}

/// The context of one running service. Not `Clone`: the service owns it, and what it hands to
/// tasks are clones of its parts.
pub struct ServiceContext {
    pub(crate) spec: &'static ServiceSpec,
    pub(crate) config: Arc<Config>,
    pub(crate) listener: Option<TcpListener>,
    pub(crate) database: Option<Database>,
    pub(crate) outbox: Option<Arc<Notify>>,
    pub(crate) shared: SharedBackends,
    pub(crate) bus: Arc<OnceCell<Arc<dyn EventBus>>>,
    pub(crate) ids: OnceLock<Arc<IdGenerator>>,
    pub(crate) metrics: Metrics,
    pub(crate) checks: Checks,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tasks: Tasks,
}

impl ServiceContext {
    pub fn name(&self) -> &'static str {
        self.spec.name
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Cancelled when the service must stop: the process is asked to, or one of its tasks failed.
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// This service's own registry, served on its `/metrics`.
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// The database its spec declares, open and migrated.
    pub fn database(&self) -> Result<Database, RuntimeError> {
        self.database
            .clone()
            .ok_or_else(|| self.undeclared("a database"))
    }

    /// Wakes the outbox relay: call `notify_one()` after committing an outbox row.
    pub fn outbox(&self) -> Result<Arc<Notify>, RuntimeError> {
        self.outbox
            .clone()
            .ok_or_else(|| self.undeclared("an outbox relay"))
    }

    /// The service's id generator, on the configured worker number (`PHOTOSHARE_NODE_ID`) or a
    /// random one. One per service: two generators on one worker number could repeat ids.
    pub fn ids(&self) -> Result<Arc<IdGenerator>, RuntimeError> {
        if let Some(ids) = self.ids.get() {
            return Ok(ids.clone());
        }
        let worker = WorkerId::configured_or_random(self.config.node_id)?;
        Ok(self
            .ids
            .get_or_init(|| Arc::new(IdGenerator::new(worker)))
            .clone())
    }

    /// The event bus: the one this process shares, or the configured one.
    pub async fn bus(&self) -> Result<Arc<dyn EventBus>, RuntimeError> {
        resolved_bus(&self.bus, &self.shared, &self.config).await
    }

    /// A client of the object storage (the shared store in `photoshare dev`, else the configured
    /// bucket); its readiness joins the service's.
    pub async fn object_store(&self) -> Result<ObjectStore, RuntimeError> {
        let settings = match &self.shared.object_storage {
            Some(settings) => settings.clone(),
            None => {
                resolve::object_storage(&self.config)?.ok_or_else(resolve::no_object_storage)?
            }
        };
        let objects = ObjectStore::connect(&settings).await?;
        self.checks.add(Arc::new(objects.clone()));
        Ok(objects)
    }

    /// The feed's cache and post store as configured (the post store in the declared database
    /// when no Scylla is configured); their readiness joins the service's.
    pub async fn feed_stores(&self) -> Result<FeedStores, RuntimeError> {
        let (stores, checks) = resolve::feed_stores(&self.config, self.database.as_ref()).await?;
        for check in checks {
            self.checks.add(check);
        }
        Ok(stores)
    }

    /// Adds a check to the service's `/readyz` (besides what the context opened).
    pub fn add_readiness(&self, check: Arc<dyn Readiness>) {
        self.checks.add(check);
    }

    /// The listener the runtime bound for this service, for a server of its own (the gateway's
    /// HTTP server). Taken once.
    pub fn take_listener(&mut self) -> Result<TcpListener, RuntimeError> {
        let service = self.spec.name;
        self.listener
            .take()
            .ok_or(RuntimeError::ListenerTaken { service })
    }

    /// Serves gRPC (the services `add` adds) with `/livez`, `/readyz` and `/metrics` on the
    /// service's listener until shutdown, then drains in-flight calls.
    pub async fn serve_grpc(
        mut self,
        add: impl FnOnce(tonic::service::Routes) -> tonic::service::Routes,
    ) -> Result<(), RuntimeError> {
        let listener = self.take_listener()?;
        crate::grpc::serve(
            listener,
            self.spec.name,
            Arc::new(self.checks.clone()),
            self.metrics.clone(),
            add,
            self.shutdown.clone(),
        )
        .await?;
        Ok(())
    }

    /// Serves `/livez`, `/readyz` and `/metrics` alone on the service's listener, beside its
    /// work (a worker), until shutdown.
    pub fn spawn_ops(&mut self) -> Result<(), RuntimeError> {
        let listener = self.take_listener()?;
        let router = ops_router(Arc::new(self.checks.clone()), self.metrics.clone());
        let shutdown = self.shutdown.clone();
        let addr = listener
            .local_addr()
            .map(|addr| addr.to_string())
            .unwrap_or_default();
        tracing::info!(%addr, "{} ops endpoints listening", self.spec.name);
        self.spawn("ops server", async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await
                .map_err(|source| RuntimeError::Server {
                    what: "ops",
                    source,
                })
        });
        Ok(())
    }

    /// Runs `task` beside the service until it ends. If it fails or panics, the service stops
    /// and reports that failure.
    pub fn spawn(
        &self,
        task: &'static str,
        future: impl Future<Output = Result<(), RuntimeError>> + Send + 'static,
    ) {
        self.tasks.spawn(task, future);
    }

    /// Consumes `topics` as `group` with `handler` until shutdown, recording into the service's
    /// metrics. A future that owns what it needs, so it can be awaited or spawned.
    pub fn consume(
        &self,
        group: &'static str,
        topics: &[&str],
        handler: Arc<dyn Handler>,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send + 'static {
        let (cell, shared, config) = (self.bus.clone(), self.shared.clone(), self.config.clone());
        let (metrics, shutdown) = (self.metrics.clone(), self.shutdown.clone());
        let topics: Vec<String> = topics.iter().map(|topic| (*topic).to_owned()).collect();
        async move {
            let bus = resolved_bus(&cell, &shared, &config).await?;
            tracing::info!(group, ?topics, "consuming");
            Consumer::new(bus, group, topics, handler)
                .metrics(metrics)
                .run(shutdown)
                .await?;
            Ok(())
        }
    }

    fn undeclared(&self, what: &'static str) -> RuntimeError {
        RuntimeError::Undeclared {
            service: self.spec.name,
            what,
        }
    }
}

/// The bus of `shared`, or the configured one, resolved once per service.
pub(crate) async fn resolved_bus(
    cell: &OnceCell<Arc<dyn EventBus>>,
    shared: &SharedBackends,
    config: &Config,
) -> Result<Arc<dyn EventBus>, RuntimeError> {
    let bus = cell
        .get_or_try_init(|| async {
            match &shared.bus {
                Some(bus) => Ok(bus.clone()),
                None => resolve::event_bus(config).await,
            }
        })
        .await?;
    Ok(bus.clone())
}
