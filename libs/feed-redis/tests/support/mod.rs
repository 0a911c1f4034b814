//! Private Redis servers for the tests that must not disturb the shared one: a standalone
//! server (whose script cache a test may flush) and a three-node Redis Cluster. They need the
//! `redis-server` and `redis-cli` binaries (Debian: `apt-get install redis-server`); without
//! them the tests fail, saying so.

#![allow(dead_code)] // each test binary uses a part

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Servers started for one test, killed (with their files) when dropped.
pub struct Servers {
    children: Vec<Child>,
    pub ports: Vec<u16>,
    _dir: tempfile::TempDir,
}

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Servers {
    /// One standalone server; its URL.
    pub async fn standalone() -> (Servers, String) {
        let servers = start(1, false).await;
        let url = format!("redis://127.0.0.1:{}", servers.ports[0]);
        (servers, url)
    }

    /// A cluster of three primaries with every slot assigned; its `redis+cluster://` URL
    /// naming two of the nodes as seeds.
    pub async fn cluster() -> (Servers, String) {
        let started = Instant::now();
        let servers = start(3, true).await;
        let nodes: Vec<String> = servers
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let output = Command::new(binary("redis-cli"))
            .arg("--cluster")
            .arg("create")
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli runs");
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        for port in &servers.ports {
            wait_for(*port, &["CLUSTER", "INFO"], "cluster_state:ok").await;
        }
        println!("cluster of 3 up in {} ms", started.elapsed().as_millis());
        let url = format!("redis+cluster://{},{}", nodes[0], nodes[1]);
        (servers, url)
    }
}

/// The path of a Redis binary, or a failure that says how to get it.
fn binary(name: &str) -> String {
    let found = Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        found,
        "`{name}` is required by this test and was not found on PATH. Install it with: \
         apt-get install redis-server (it brings redis-server and redis-cli)"
    );
    name.to_owned()
}

/// A free port whose cluster bus port (+10 000) is free too.
fn free_port() -> u16 {
    for _ in 0..100 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair (port, port + 10000) found");
}

async fn start(count: usize, cluster: bool) -> Servers {
    let server = binary("redis-server");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut children = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..count {
        let port = free_port();
        let mut command = Command::new(&server);
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if cluster {
            command
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"])
                .arg("--cluster-config-file")
                .arg(dir.path().join(format!("nodes-{port}.conf")));
        }
        children.push(command.spawn().expect("redis-server starts"));
        ports.push(port);
    }
    let servers = Servers {
        children,
        ports,
        _dir: dir,
    };
    for port in &servers.ports {
        wait_for(*port, &["PING"], "PONG").await;
    }
    servers
}

/// Waits (up to 10 s) until the server on `port` answers `command` with text containing
/// `expected`.
async fn wait_for(port: u16, command: &[&str], expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let url = format!("redis://127.0.0.1:{port}");
    let mut last = String::new();
    while Instant::now() < deadline {
        let answer = async {
            let client = redis::Client::open(url.as_str())?;
            let mut connection = client.get_multiplexed_async_connection().await?;
            let mut cmd = redis::cmd(command[0]);
            cmd.arg(&command[1..]);
            cmd.query_async::<String>(&mut connection).await
        }
        .await;
        match answer {
            Ok(text) if text.contains(expected) => return,
            Ok(text) => last = text,
            Err(error) => last = error.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "redis on port {port} did not answer {command:?} with {expected:?} within 10 s; last: {last}"
    );
}
