//! The login flood: 300 concurrent wrong-password logins from 30 addresses, every one inside
//! the per-address and per-account limits, against `photoshare dev` run from the built binary
//! in a child process, so that its memory is its own to measure. Argon2id takes 19 MiB per
//! hash; unbounded, this took the process to 5.4 GiB. Bounded, its peak resident memory stays
//! inside a users pod (512 MiB), and every answer is 401, 429 or 503 with `Retry-After`, never
//! a 500. Afterwards the right password logs in.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{Backend, PASSWORD};

/// The memory limit of the users pod in the Kubernetes manifests.
const POD_LIMIT_KIB: u64 = 512 * 1024;

const ADDRESSES: usize = 30;
const LOGINS: usize = 300;

/// `photoshare dev` in a child process, killed when dropped.
struct DevProcess {
    child: Child,
    base: String,
    _data_dir: tempfile::TempDir,
}

impl DevProcess {
    async fn start(backend: Backend) -> DevProcess {
        let (config, data_dir) =
            photoshare_test_support::service_config(backend == Backend::Postgres).await;
        let config_file = data_dir.path().join("photoshare.toml");
        // Behind a proxy, so that X-Forwarded-For names the client; every other setting is
        // the default, the hashing pool's included.
        std::fs::write(&config_file, "[gateway]\ntrust_forwarded_for = true\n").unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_photoshare"));
        command
            .arg("dev")
            .arg("--data-dir")
            .arg(data_dir.path().join("data"))
            .args(["--listen", "127.0.0.1:0"])
            .env("PHOTOSHARE_CONFIG", &config_file)
            .env("PHOTOSHARE_LOG", "error")
            .env("PHOTOSHARE_LOG_FORMAT", "text")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(url) = &config.backends.postgres_url {
            command.env("PHOTOSHARE_POSTGRES_URL", url).env(
                "PHOTOSHARE_POSTGRES_DATABASE_PREFIX",
                &config.backends.postgres_database_prefix,
            );
        }
        let mut child = command.spawn().expect("the photoshare binary runs");
        let stdout = child.stdout.take().unwrap();
        let (ready, address) = mpsc::channel();
        // Reads the output to its end, so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("photoshare ready at ") {
                    let _ = ready.send(url.trim().to_owned());
                }
            }
        });
        let base =
            tokio::task::spawn_blocking(move || address.recv_timeout(Duration::from_secs(60)))
                .await
                .unwrap()
                .expect("photoshare dev says it is ready within 60 s");
        DevProcess {
            child,
            base,
            _data_dir: data_dir,
        }
    }

    /// The most resident memory the process has used so far (`VmHWM`), in KiB.
    fn peak_resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }
}

impl Drop for DevProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    address: &str,
    login: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/v1/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .expect("an answer")
}

async fn a_login_flood_stays_inside_the_pod(backend: Backend) {
    let dev = DevProcess::start(backend).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    // Three of the thirty names guessed at exist; the others make the dummy hash run.
    for (n, name) in ["target0", "target1", "target2", "survivor"]
        .iter()
        .enumerate()
    {
        let signup = client
            .post(format!("{}/v1/auth/signup", dev.base))
            .header("x-forwarded-for", format!("192.0.2.{}", n + 1))
            .json(&json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(signup.status(), 201, "sign-up of {name}");
    }
    let before_kib = dev.peak_resident_kib();

    // 30 addresses × 10 attempts, each at one of 30 names: inside the per-address and the
    // per-account limits, so each one reaches the password check.
    let attempts = (0..LOGINS).map(|n| {
        let address = format!("203.0.113.{}", n % ADDRESSES + 1);
        let name = format!("target{}", n % ADDRESSES);
        let (client, base) = (&client, dev.base.as_str());
        async move { login(client, base, &address, &name, "not the password").await }
    });
    let answers = futures::future::join_all(attempts).await;
    let mut counts = std::collections::BTreeMap::new();
    for answer in answers {
        let status = answer.status().as_u16();
        *counts.entry(status).or_insert(0) += 1;
        assert!([401, 429, 503].contains(&status), "a {status} in the flood");
        if status == 503 {
            let retry_after = answer.headers().contains_key("retry-after");
            let problem: Value = answer.json().await.unwrap();
            assert!(retry_after, "503 without Retry-After: {problem}");
            assert_eq!(problem["code"], "unavailable");
        }
    }
    assert!(counts.get(&401).is_some_and(|n| *n > 0), "{counts:?}");
    let peak_kib = dev.peak_resident_kib();
    eprintln!(
        "login flood ({backend:?}): {counts:?}; peak resident {} MiB (before: {} MiB)",
        peak_kib / 1024,
        before_kib / 1024
    );
    assert!(
        peak_kib < POD_LIMIT_KIB,
        "peak resident memory {} MiB is above the pod's {} MiB",
        peak_kib / 1024,
        POD_LIMIT_KIB / 1024
    );

    // The flood over, the right password works (a busy answer says when to come back).
    let started = Instant::now();
    loop {
        let answer = login(&client, &dev.base, "192.0.2.99", "survivor", PASSWORD).await;
        match answer.status().as_u16() {
            200 => break,
            503 => assert!(started.elapsed() < Duration::from_secs(30), "still busy"),
            other => panic!("the right password answered {other}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_flood_stays_inside_the_pod_embedded() {
    a_login_flood_stays_inside_the_pod(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_flood_stays_inside_the_pod_on_postgres() {
    a_login_flood_stays_inside_the_pod(Backend::Postgres).await;
}
