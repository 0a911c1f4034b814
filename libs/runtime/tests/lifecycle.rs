//! The runtime's promises, on a real SQLite database and the real embedded event log: every exit
//! (an error, a panic in the service, a panic in one of its tasks) stops the relay after a last
//! pass and closes the database; a panic is a failure, never a clean stop; a worker's `/metrics`
//! serves its own registry with its consumer's series; `migrate` and name lookup use the
//! registry.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use photoshare_config::Config;
use photoshare_db::{Database, MigrationFile};
use photoshare_events::{EventBus, Handler, HandlerError, LocalLog, Message};
use photoshare_runtime::{
    DatabaseSpec, Dev, RuntimeError, ServiceContext, ServiceSpec, SharedBackends,
};
use tokio_util::sync::CancellationToken;

/// The test service's schema: just the outbox, defined once by photoshare-events.
static MIGRATIONS: &[MigrationFile] = &[MigrationFile::shared(
    1,
    photoshare_events::OUTBOX_MIGRATION,
)];

const DATABASE: DatabaseSpec = DatabaseSpec::owned("lifecycle", MIGRATIONS);

/// A spec of a test service with a database and an outbox relay, started by `start`.
const fn spec(
    name: &'static str,
    start: fn(ServiceContext) -> photoshare_runtime::BoxFuture<'static, Result<(), RuntimeError>>,
) -> ServiceSpec {
    ServiceSpec {
        name,
        database: Some(DATABASE),
        outbox_relay: true,
        listen: |config| config.users.listen,
        dev: Dev::Configured,
        start,
    }
}

/// What a test service saw, for the test to inspect after it stopped.
struct Seen {
    database: Mutex<Option<Database>>,
}

impl Seen {
    const fn new() -> Seen {
        Seen {
            database: Mutex::new(None),
        }
    }

    fn keep(&self, context: &ServiceContext) -> Result<(), RuntimeError> {
        *self.database.lock().unwrap() = Some(context.database()?);
        Ok(())
    }

    fn database(&self) -> Database {
        self.database
            .lock()
            .unwrap()
            .clone()
            .expect("the service ran")
    }
}

struct Running {
    config: Config,
    log: LocalLog,
    _dir: tempfile::TempDir,
}

async fn backends() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_owned(),
        ..Config::default()
    };
    let log = LocalLog::open(dir.path()).await.unwrap();
    Running {
        config,
        log,
        _dir: dir,
    }
}

async fn serve(spec: &'static ServiceSpec, running: &Running) -> Result<(), RuntimeError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    photoshare_runtime::serve(
        spec,
        listener,
        running.config.clone(),
        SharedBackends::with_bus(Arc::new(running.log.clone())),
        CancellationToken::new(),
    )
    .await
}

#[derive(Debug, thiserror::Error)]
#[error("the signing key is unreadable")]
struct StartFailed;

static FAILING_SEEN: Seen = Seen::new();
static FAILING: ServiceSpec = spec("failing", |context| {
    Box::pin(async move {
        FAILING_SEEN.keep(&context)?;
        // An event committed just before the failure: only a last relay pass can publish it.
        let database = context.database()?;
        let mut tx = database.pool().begin().await.unwrap();
        let message = Message::event("thing.made", "1", 1, 0, b"x".to_vec());
        photoshare_events::enqueue(&mut tx, 1, &message).await?;
        tx.commit().await.unwrap();
        Err(RuntimeError::service(StartFailed))
    })
});

#[tokio::test]
async fn a_service_whose_start_fails_still_stops_its_relay_and_closes_its_database() {
    let running = backends().await;
    let mut events = running
        .log
        .subscribe("test", &["thing.made".to_owned()])
        .await
        .unwrap();

    let error = serve(&FAILING, &running).await.unwrap_err();

    assert!(matches!(&error, RuntimeError::Service(_)), "{error:?}");
    assert_eq!(error.to_string(), "the signing key is unreadable");
    assert!(FAILING_SEEN.database().pool().is_closed());
    let published = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("the relay published the committed event before it stopped")
        .unwrap();
    assert_eq!(published.message.key, "1");
}

static PANICKING_TASK_SEEN: Seen = Seen::new();
static PANICKING_TASK: ServiceSpec = spec("panicking-task", |context| {
    Box::pin(async move {
        PANICKING_TASK_SEEN.keep(&context)?;
        context.spawn("fan-out worker", async { panic!("boom") });
        // Serves until told to stop, as a server does: the panic must be what stops it.
        context.shutdown().cancelled().await;
        Ok(())
    })
});

#[tokio::test]
async fn a_panicking_task_is_reported_as_a_failure_and_stops_its_service() {
    let running = backends().await;
    // Bounded, so that a panic that failed to stop the service fails the test instead of hanging.
    let error = tokio::time::timeout(Duration::from_secs(60), serve(&PANICKING_TASK, &running))
        .await
        .expect("the panic stopped the service")
        .unwrap_err();
    match &error {
        RuntimeError::Panicked {
            service,
            task,
            message,
        } => {
            assert_eq!(
                (*service, *task, message.as_str()),
                ("panicking-task", "fan-out worker", "boom")
            );
        }
        other => panic!("expected a panic to be reported, got {other:?}"),
    }
    assert!(PANICKING_TASK_SEEN.database().pool().is_closed());
}

static PANICKING_START_SEEN: Seen = Seen::new();
static PANICKING_START: ServiceSpec = spec("panicking-start", |context| {
    Box::pin(async move {
        PANICKING_START_SEEN.keep(&context)?;
        if context.config().node_id.is_none() {
            panic!("a limit is configured");
        }
        Ok(())
    })
});

#[tokio::test]
async fn a_panicking_service_is_reported_as_a_failure() {
    let running = backends().await;
    let error = serve(&PANICKING_START, &running).await.unwrap_err();
    assert!(
        matches!(&error, RuntimeError::Panicked { task: "service", message, .. } if message == "a limit is configured"),
        "{error:?}"
    );
    assert!(PANICKING_START_SEEN.database().pool().is_closed());
}

static STOPPING_SEEN: Seen = Seen::new();
static STOPPING: ServiceSpec = spec("stopping", |context| {
    Box::pin(async move {
        STOPPING_SEEN.keep(&context)?;
        context.shutdown().cancelled().await;
        Ok(())
    })
});

#[tokio::test]
async fn a_clean_stop_is_ok_and_closes_the_database() {
    let running = backends().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shutdown = CancellationToken::new();
    let served = tokio::spawn(photoshare_runtime::serve(
        &STOPPING,
        listener,
        running.config.clone(),
        SharedBackends::with_bus(Arc::new(running.log.clone())),
        shutdown.clone(),
    ));
    shutdown.cancel();
    served.await.unwrap().unwrap();
    assert!(STOPPING_SEEN.database().pool().is_closed());
}

/// Counts what it handles.
struct Counting;

#[async_trait]
impl Handler for Counting {
    async fn handle(&self, _message: &Message) -> Result<(), HandlerError> {
        Ok(())
    }
}

static WORKER: ServiceSpec = ServiceSpec {
    name: "worker",
    database: None,
    outbox_relay: false,
    listen: |config| config.image_worker.listen,
    dev: Dev::Configured,
    start: |mut context| {
        Box::pin(async move {
            context.spawn_ops()?;
            context
                .consume("worker-group", &["thing.made"], Arc::new(Counting))
                .await
        })
    },
};

#[tokio::test]
async fn a_worker_serves_its_own_metrics_with_its_consumers_series() {
    let running = backends().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let served = tokio::spawn(photoshare_runtime::serve(
        &WORKER,
        listener,
        running.config.clone(),
        SharedBackends::with_bus(Arc::new(running.log.clone())),
        shutdown.clone(),
    ));
    running
        .log
        .publish(&Message::event("thing.made", "1", 1, 0, b"x".to_vec()))
        .await
        .unwrap();

    let expected = "photoshare_events_handled_total{group=\"worker-group\",topic=\"thing.made\"} 1";
    let client = reqwest::Client::new();
    let mut text = String::new();
    for _ in 0..500 {
        if let Ok(response) = client.get(format!("http://{addr}/metrics")).send().await {
            text = response.text().await.unwrap();
            if text.contains(expected) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(text.contains(expected), "{text}");
    let readyz = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(readyz.status(), 200);

    shutdown.cancel();
    served.await.unwrap().unwrap();
}

static SHARING: ServiceSpec = ServiceSpec {
    name: "sharing",
    database: Some(DATABASE),
    outbox_relay: false,
    listen: |config| config.users.listen,
    dev: Dev::Configured,
    start: |_| Box::pin(async { Ok(()) }),
};

#[tokio::test]
async fn migrate_applies_each_database_once_and_lookup_knows_the_registry() {
    let running = backends().await;
    let registry = [&FAILING, &SHARING, &WORKER];
    photoshare_runtime::migrate(&registry, &running.config)
        .await
        .unwrap();
    let database = photoshare_runtime::open_database(&SHARING, &running.config)
        .await
        .unwrap()
        .expect("the spec declares a database");
    let unsent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(database.pool())
        .await
        .unwrap();
    assert_eq!(unsent, 0, "the outbox table exists and is empty");
    database.close().await;

    assert_eq!(
        ServiceSpec::find(&registry, "worker").unwrap().name,
        "worker"
    );
    let error = ServiceSpec::find(&registry, "notifications").unwrap_err();
    assert_eq!(
        error.to_string(),
        "no service is called `notifications`; the services are: failing, sharing, worker"
    );
}
