//! [`EmbeddedS3`]: an S3-protocol server inside the process, over a local folder, for
//! `photoshare dev` and tests. It is s3s (the protocol, SigV4 checks for signed and presigned
//! requests) over s3s-fs (objects as files, metadata in JSON side files), served by hyper.
//! Because it checks signatures, a presigned URL that works here works on AWS.
//!
//! It serves one bucket, path-style, plain HTTP. It must not be used in production: s3s-fs is
//! not built for concurrency across processes, durability or large data.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::{validate, CredentialsSource, StaticCredentials, StorageError, StorageSettings};

/// How long in-flight requests may take to finish once shutdown is asked for.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct EmbeddedS3Config {
    /// The folder holding the data; created if missing. The bucket is a folder inside it.
    pub root: PathBuf,
    pub bucket: String,
    /// Port 0 lets the OS choose; [`EmbeddedS3::endpoint_url`] tells which.
    pub listen: SocketAddr,
    /// Only ends up in signatures; the server accepts any region.
    pub region: String,
    /// The one key pair the server accepts. `None`: a random one each start, which is what dev
    /// wants (presigned URLs carry signatures, never the secret).
    pub credentials: Option<StaticCredentials>,
}

impl EmbeddedS3Config {
    /// On `127.0.0.1`, a port the OS chooses, region `us-east-1`, random credentials.
    pub fn new(root: impl Into<PathBuf>, bucket: impl Into<String>) -> EmbeddedS3Config {
        EmbeddedS3Config {
            root: root.into(),
            bucket: bucket.into(),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            region: "us-east-1".into(),
            credentials: None,
        }
    }
}

/// A running embedded server. It stops when the shutdown token given to
/// [`EmbeddedS3::start`] is cancelled, or when this handle is dropped.
#[derive(Debug)]
pub struct EmbeddedS3 {
    local_addr: SocketAddr,
    endpoint_url: String,
    bucket: String,
    region: String,
    credentials: StaticCredentials,
    task: JoinHandle<()>,
    stop: DropGuard,
}

impl EmbeddedS3 {
    /// Creates the root and bucket folders, binds `config.listen` and starts serving. Objects
    /// already in the folder (from an earlier run) are served as they are.
    pub async fn start(
        config: EmbeddedS3Config,
        shutdown: CancellationToken,
    ) -> Result<EmbeddedS3, StorageError> {
        validate::bucket(&config.bucket).map_err(|e| StorageError::Config(e.to_string()))?;
        let credentials = match config.credentials {
            Some(credentials) => credentials,
            None => random_credentials()?,
        };
        if credentials.access_key_id.is_empty() || credentials.secret_access_key.is_empty() {
            return Err(StorageError::Config(
                "the embedded S3 server needs a non-empty access key id and secret".into(),
            ));
        }

        let bucket_dir = config.root.join(&config.bucket);
        tokio::fs::create_dir_all(&bucket_dir)
            .await
            .map_err(|source| io_error("create", &bucket_dir, source))?;
        let filesystem = s3s_fs::FileSystem::new(&config.root).map_err(|e| {
            StorageError::Config(format!("cannot serve {}: {e:?}", config.root.display()))
        })?;
        let service = {
            let mut builder = S3ServiceBuilder::new(filesystem);
            builder.set_auth(SimpleAuth::from_single(
                credentials.access_key_id.clone(),
                credentials.secret_access_key.clone(),
            ));
            builder.build()
        };

        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StorageError::Io {
                    action: "listen on",
                    target: config.listen.to_string(),
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| StorageError::Io {
            action: "read the address of",
            target: config.listen.to_string(),
            source,
        })?;
        let endpoint_url = endpoint_url(local_addr);
        tracing::info!(endpoint = %endpoint_url, root = %config.root.display(), bucket = %config.bucket, "embedded S3 server listening");

        let stop = shutdown.child_token();
        let task = tokio::spawn(serve(listener, service, stop.clone()));
        Ok(EmbeddedS3 {
            local_addr,
            endpoint_url,
            bucket: config.bucket,
            region: config.region,
            credentials,
            task,
            stop: stop.drop_guard(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<ip>:<port>`, reachable from this machine (a wildcard listen address becomes
    /// the loopback address).
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint_url
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn credentials(&self) -> &StaticCredentials {
        &self.credentials
    }

    /// Settings for an [`crate::ObjectStore`] on this server.
    pub fn settings(&self) -> StorageSettings {
        StorageSettings {
            endpoint: Some(self.endpoint_url.clone()),
            bucket: self.bucket.clone(),
            region: self.region.clone(),
            credentials: CredentialsSource::Static(self.credentials.clone()),
        }
    }

    /// Stops accepting connections, lets requests in flight finish (for up to 5 s) and returns
    /// once the port is closed.
    pub async fn stop(self) {
        self.stop.disarm().cancel();
        let _ = self.task.await;
    }

    /// Waits until the server has stopped because the shutdown token was cancelled.
    pub async fn stopped(self) {
        let EmbeddedS3 { task, stop, .. } = self;
        // Keep the token alive but do not cancel it: this waits for someone else to.
        let _token = stop.disarm();
        let _ = task.await;
    }
}

async fn serve(listener: TcpListener, service: S3Service, shutdown: CancellationToken) {
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                // Usually out of file descriptors: wait instead of spinning on the error.
                tracing::warn!(%error, "embedded S3 server cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let connection = http1::Builder::new()
            // The timer enables hyper's header read timeout, so idle sockets do not pile up.
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(stream), service.clone());
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "embedded S3 connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("embedded S3 server stopped with requests still running");
    }
    tracing::info!("embedded S3 server stopped");
}

fn endpoint_url(local_addr: SocketAddr) -> String {
    let ip = match local_addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, local_addr.port()))
}

fn random_credentials() -> Result<StaticCredentials, StorageError> {
    use ring::rand::SecureRandom;
    let mut secret = [0u8; 30];
    ring::rand::SystemRandom::new()
        .fill(&mut secret)
        .map_err(|_| StorageError::Config("the system random generator failed".into()))?;
    Ok(StaticCredentials {
        access_key_id: "photoshare-dev".into(),
        secret_access_key: secret.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> StorageError {
    StorageError::Io {
        action,
        target: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_reachable_addresses() {
        let at = |s: &str| endpoint_url(s.parse().unwrap());
        assert_eq!(at("127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(at("0.0.0.0:9000"), "http://127.0.0.1:9000");
        assert_eq!(at("[::]:9000"), "http://[::1]:9000");
        assert_eq!(at("192.168.1.5:80"), "http://192.168.1.5:80");
    }

    #[test]
    fn random_credentials_differ() {
        let a = random_credentials().unwrap();
        let b = random_credentials().unwrap();
        assert_eq!(a.secret_access_key.len(), 60);
        assert_ne!(a.secret_access_key, b.secret_access_key);
    }
}
