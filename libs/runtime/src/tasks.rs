//! The tasks a service runs beside its server (a consumer, a worker's ops endpoints) and its
//! outbox relay. A task that fails or panics stops its service and is reported as the failure it
//! is, never as a clean stop; dropping them (a crash in tests) aborts them.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use photoshare_db::Database;
use photoshare_events::{EventBus, Relay};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::RuntimeError;

/// How long the last relay pass at shutdown may wait for the broker.
const LAST_RELAY_PASS: Duration = Duration::from_secs(5);

/// Runs `future`, turning a panic into [`RuntimeError::Panicked`].
pub(crate) async fn catching_panics(
    service: &'static str,
    task: &'static str,
    future: impl Future<Output = Result<(), RuntimeError>>,
) -> Result<(), RuntimeError> {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(outcome) => outcome,
        Err(payload) => Err(RuntimeError::panicked(service, task, &*payload)),
    }
}

/// The background tasks of one service.
#[derive(Clone)]
pub(crate) struct Tasks {
    service: &'static str,
    /// Cancelled when a task fails, so that the service stops and reports it.
    shutdown: CancellationToken,
    running: Arc<Mutex<JoinSet<Result<(), RuntimeError>>>>,
}

impl Tasks {
    pub(crate) fn new(service: &'static str, shutdown: CancellationToken) -> Tasks {
        Tasks {
            service,
            shutdown,
            running: Arc::default(),
        }
    }

    pub(crate) fn spawn(
        &self,
        task: &'static str,
        future: impl Future<Output = Result<(), RuntimeError>> + Send + 'static,
    ) {
        let (service, shutdown) = (self.service, self.shutdown.clone());
        let watched = async move {
            let outcome = catching_panics(service, task, future).await;
            if let Err(error) = &outcome {
                tracing::error!(%error, service, task, "a task failed; stopping the service");
                shutdown.cancel();
            }
            outcome
        };
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .spawn(watched);
    }

    /// Waits for every task (the caller has cancelled the shutdown); the first failure wins.
    pub(crate) async fn join(&self) -> Result<(), RuntimeError> {
        let mut running =
            std::mem::take(&mut *self.running.lock().unwrap_or_else(PoisonError::into_inner));
        let mut outcome = Ok(());
        while let Some(joined) = running.join_next().await {
            let finished = match joined {
                Ok(finished) => finished,
                // Panics are caught inside the task; this is one that escaped (from a drop).
                Err(error) if error.is_panic() => Err(RuntimeError::panicked(
                    self.service,
                    "task",
                    &*error.into_panic(),
                )),
                // Only dropping the set aborts a task, and the set is here.
                Err(_) => Ok(()),
            };
            if outcome.is_ok() {
                outcome = finished;
            }
        }
        outcome
    }
}

/// The outbox relay of a service, running until [`RelayTask::stop`].
pub(crate) struct RelayTask {
    service: &'static str,
    stop: CancellationToken,
    task: JoinSet<()>,
    database: Database,
    bus: Arc<dyn EventBus>,
}

impl RelayTask {
    /// Starts relaying; the returned waker publishes a committed outbox row at once.
    pub(crate) fn start(
        service: &'static str,
        database: Database,
        bus: Arc<dyn EventBus>,
    ) -> (RelayTask, Arc<Notify>) {
        let relay = Relay::new(database.clone(), bus.clone());
        let waker = relay.waker();
        let stop = CancellationToken::new();
        let mut task = JoinSet::new();
        task.spawn(relay.run(stop.clone()));
        let running = RelayTask {
            service,
            stop,
            task,
            database,
            bus,
        };
        (running, waker)
    }

    /// Stops the relay, then makes one last pass so that events committed while the service
    /// drained leave now rather than at the next start. The database must still be open.
    pub(crate) async fn stop(mut self) -> Result<(), RuntimeError> {
        self.stop.cancel();
        while let Some(joined) = self.task.join_next().await {
            if let Err(error) = joined {
                if error.is_panic() {
                    return Err(RuntimeError::panicked(
                        self.service,
                        "outbox relay",
                        &*error.into_panic(),
                    ));
                }
            }
        }
        let last_pass = Relay::new(self.database, self.bus);
        match tokio::time::timeout(LAST_RELAY_PASS, last_pass.relay_pending()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "the last outbox pass failed; the next start publishes")
            }
            Err(_) => tracing::warn!("the last outbox pass timed out; the next start publishes"),
        }
        Ok(())
    }
}
