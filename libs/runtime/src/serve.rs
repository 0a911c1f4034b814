//! Running one service: open what its spec declares, start it, and on every exit — a clean
//! stop, an error, a panic — take the same way down: stop accepting and drain (the service's
//! server returns), stop its tasks, stop the relay (after a last pass), close the database.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use photoshare_config::Config;
use photoshare_db::Database;
use photoshare_telemetry::Metrics;
use tokio::net::TcpListener;
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use crate::context::{resolved_bus, ServiceContext, SharedBackends};
use crate::ops::Checks;
use crate::tasks::{catching_panics, RelayTask, Tasks};
use crate::{resolve, Dev, RuntimeError, ServiceSpec};

/// Binds `addr` for a service.
async fn bind(addr: SocketAddr) -> Result<TcpListener, RuntimeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| RuntimeError::Bind {
            addr: addr.to_string(),
            source,
        })
}

/// Opens the database `spec` declares for this configuration (creating it and applying its
/// migrations), if any.
pub async fn open_database(
    spec: &ServiceSpec,
    config: &Config,
) -> Result<Option<Database>, RuntimeError> {
    match spec.database_used(config) {
        Some(database) => Ok(Some(
            resolve::database(database.name, config, database.migrations).await?,
        )),
        None => Ok(None),
    }
}

/// Runs `spec` on `listener` until `shutdown` (or until it fails), with `shared` backends and
/// the rest resolved from `config`.
pub async fn serve(
    spec: &'static ServiceSpec,
    listener: TcpListener,
    config: Config,
    shared: SharedBackends,
    shutdown: CancellationToken,
) -> Result<(), RuntimeError> {
    // Its own token: a failing task stops this service, not the others of the process.
    let shutdown = shutdown.child_token();
    let config = Arc::new(config);
    let database = open_database(spec, &config).await?;
    let tasks = Tasks::new(spec.name, shutdown.clone());
    let mut relay = None;

    let served = start(
        spec,
        listener,
        config,
        shared,
        database.clone(),
        &tasks,
        &mut relay,
        shutdown.clone(),
    )
    .await;

    shutdown.cancel();
    let tasks_stopped = tasks.join().await;
    let relay_stopped = match relay {
        Some(relay) => relay.stop().await,
        None => Ok(()),
    };
    if let Some(database) = database {
        database.close().await;
    }
    let outcome = served.and(tasks_stopped).and(relay_stopped);
    match &outcome {
        Ok(()) => tracing::info!("{} service stopped", spec.name),
        Err(error) => tracing::error!(%error, "{} service failed", spec.name),
    }
    outcome
}

/// Starts the relay if declared, then the service; returns when the service has drained.
#[allow(clippy::too_many_arguments)] // one call site, each argument a different part
async fn start(
    spec: &'static ServiceSpec,
    listener: TcpListener,
    config: Arc<Config>,
    shared: SharedBackends,
    database: Option<Database>,
    tasks: &Tasks,
    relay: &mut Option<RelayTask>,
    shutdown: CancellationToken,
) -> Result<(), RuntimeError> {
    let bus = Arc::new(OnceCell::new());
    let checks = Checks::default();
    if let Some(database) = &database {
        checks.add(Arc::new(database.clone()));
    }
    let outbox = match (&database, spec.outbox_relay) {
        (Some(database), true) => {
            let (running, waker) = RelayTask::start(
                spec.name,
                database.clone(),
                resolved_bus(&bus, &shared, &config).await?,
            );
            *relay = Some(running);
            Some(waker)
        }
        (None, true) => {
            return Err(RuntimeError::Undeclared {
                service: spec.name,
                what: "an outbox relay without a database",
            })
        }
        (_, false) => None,
    };
    let context = ServiceContext {
        spec,
        config,
        listener: Some(listener),
        database,
        outbox,
        shared,
        bus,
        ids: OnceLock::new(),
        metrics: Metrics::new(),
        checks,
        shutdown,
        tasks: tasks.clone(),
    };
    catching_panics(spec.name, "service", (spec.start)(context)).await
}

/// `photoshare serve <name>`: runs `spec` on its configured address with the configured
/// backends until `shutdown`.
pub async fn serve_configured(
    spec: &'static ServiceSpec,
    config: Config,
    shutdown: CancellationToken,
) -> Result<(), RuntimeError> {
    let listener = bind((spec.listen)(&config)).await?;
    serve(spec, listener, config, SharedBackends::default(), shutdown).await
}

/// Runs `spec` as a process: logs and traces as configured, until SIGTERM or Ctrl-C.
pub async fn run(spec: &'static ServiceSpec, config: Config) -> Result<(), RuntimeError> {
    let _telemetry = photoshare_telemetry::init(spec.name, &config.telemetry)?;
    serve_configured(spec, config, crate::signal::cancel_on_signal()).await
}

/// The whole `main` of a service's own binary: configuration from `PHOTOSHARE_*` and the file
/// named by `PHOTOSHARE_CONFIG`, then [`run`]. A failure is printed with its causes.
pub fn main(spec: &'static ServiceSpec) -> std::process::ExitCode {
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| RuntimeError::Server {
            what: "async runtime",
            source,
        })
        .and_then(|runtime| {
            runtime.block_on(async {
                let config = Config::from_process_env()?;
                run(spec, config).await
            })
        });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}: {error}", spec.name);
            std::process::ExitCode::FAILURE
        }
    }
}

/// Binds `spec` where `photoshare dev` runs it and announces it to the others in `config`;
/// `None` when dev does not run it with this configuration.
pub async fn bind_for_dev(
    spec: &ServiceSpec,
    config: &mut Config,
) -> Result<Option<TcpListener>, RuntimeError> {
    match &spec.dev {
        Dev::Loopback { runs, announce } => {
            if !runs(config) {
                return Ok(None);
            }
            let listener = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
            let addr = listener.local_addr().map_err(|source| RuntimeError::Bind {
                addr: "127.0.0.1:0".to_owned(),
                source,
            })?;
            announce(config, &format!("http://{addr}"));
            Ok(Some(listener))
        }
        Dev::Configured => Ok(Some(bind((spec.listen)(config)).await?)),
    }
}

/// Applies the migrations of every database the services of `registry` use in this
/// configuration (each database once, even when several services share it).
pub async fn migrate(registry: &[&ServiceSpec], config: &Config) -> Result<(), RuntimeError> {
    let mut done: Vec<&str> = Vec::new();
    for spec in registry {
        let Some(database) = spec.database_used(config) else {
            continue;
        };
        if done.contains(&database.name) {
            continue;
        }
        resolve::database(database.name, config, database.migrations)
            .await?
            .close()
            .await;
        tracing::info!(database = database.name, "migrated");
        done.push(database.name);
    }
    Ok(())
}
