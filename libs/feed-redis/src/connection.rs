//! One connection to a single Redis node or to a Redis Cluster, and the two ways this crate
//! talks over it: one command (or script) at a time, and "the same thing for each of many
//! readers", which is the fan-out hot path.
//!
//! On a single node, many readers' commands go out as pipelines: one write, one read, no round
//! trip per reader. A cluster pipeline must stay within one hash slot (the redis crate refuses
//! a pipeline across slots, and each reader has a slot of their own), so on a cluster the
//! commands are sent concurrently instead; the cluster connection multiplexes them onto one
//! connection per node, which pipelines them on the wire all the same, and follows MOVED/ASK
//! redirections per command.

use std::time::Duration;

use futures::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, ErrorKind, RedisError, RedisResult, Script, ServerErrorKind, Value};

/// Commands per pipeline on a single node. Bounds the memory of one request and lets replies
/// of the first batches be read while later ones are still being written.
const PIPELINE_BATCH: usize = 1_000;

/// Commands in flight at once on a cluster.
const CLUSTER_IN_FLIGHT: usize = 1_000;

/// How long one request (a command or a pipeline batch) may take before it fails. Generous
/// next to the milliseconds it takes, so that a big fan-out on a busy server does not fail
/// spuriously; short enough that a hung server surfaces as an error, not a stuck consumer.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long establishing a connection may take.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// Reconnection attempts of a single-node connection (with backoff from 100 ms) before a
/// request fails; the connection keeps trying again on the following requests.
const RECONNECT_ATTEMPTS: usize = 3;

/// Where a URL points.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// `redis://` or `rediss://`: one node.
    Node(String),
    /// `redis+cluster://` or `rediss+cluster://`: the URLs of the seed nodes.
    Cluster(Vec<String>),
}

/// Splits a cluster URL (`redis+cluster://[user:password@]host:port[,host:port...][/...]`) into
/// one ordinary URL per seed node, each with the same credentials and options; any other URL
/// is a single node's, left for the redis crate to parse.
pub(crate) fn target(url: &str) -> Result<Target, String> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("redis+cluster://") {
        ("redis", rest)
    } else if let Some(rest) = url.strip_prefix("rediss+cluster://") {
        ("rediss", rest)
    } else {
        return Ok(Target::Node(url.to_owned()));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (credentials, hosts) = match authority.rsplit_once('@') {
        Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
        None => (String::new(), authority),
    };
    let nodes: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .map(|host| {
            if host.is_empty() {
                Err(format!("{scheme}+cluster URL with an empty host"))
            } else {
                Ok(format!("{scheme}://{credentials}{host}{tail}"))
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Target::Cluster(nodes))
}

#[derive(Clone)]
pub(crate) enum Connection {
    /// Reconnects by itself after a failure.
    Node(ConnectionManager),
    /// Rediscovers the cluster's slots (and reconnects) by itself.
    Cluster(ClusterConnection),
}

impl Connection {
    pub(crate) async fn open(url: &str) -> Result<Connection, String> {
        let target = target(url)?;
        let tls = match &target {
            Target::Node(url) => url.starts_with("rediss:"),
            Target::Cluster(nodes) => nodes.iter().any(|node| node.starts_with("rediss:")),
        };
        if tls {
            // rustls picks its provider from its crate features, and panics if it finds two
            // (another crate may turn on aws-lc-rs): name the workspace's one. An error only
            // says that a process default is installed already, which is as good.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        match target {
            Target::Node(url) => {
                let client = redis::Client::open(url.as_str()).map_err(|e| e.to_string())?;
                let config = ConnectionManagerConfig::new()
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_connection_timeout(Some(CONNECTION_TIMEOUT))
                    .set_number_of_retries(RECONNECT_ATTEMPTS);
                let manager = ConnectionManager::new_with_config(client, config)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Connection::Node(manager))
            }
            Target::Cluster(nodes) => {
                let client = ClusterClient::builder(nodes)
                    .response_timeout(RESPONSE_TIMEOUT)
                    .connection_timeout(CONNECTION_TIMEOUT)
                    .build()
                    .map_err(|e| e.to_string())?;
                let connection = client
                    .get_async_connection()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Connection::Cluster(connection))
            }
        }
    }

    /// One command; a server error is an `Err`.
    pub(crate) async fn query(&self, cmd: &Cmd) -> RedisResult<Value> {
        match self {
            Connection::Node(connection) => cmd.query_async(&mut connection.clone()).await,
            Connection::Cluster(connection) => cmd.query_async(&mut connection.clone()).await,
        }
    }

    /// Independent commands (one per reader), each answered on its own, in order. The outer
    /// error is a failure of the whole request (the connection); the inner ones are per command.
    pub(crate) async fn query_each(&self, cmds: Vec<Cmd>) -> RedisResult<Vec<RedisResult<Value>>> {
        // A `Vec`, not an iterator: a lazy iterator's closure held across the awaits below
        // would have to be generic over lifetimes, which the `Send` check of async_trait
        // rejects.
        match self {
            Connection::Node(connection) => {
                let mut pipes = Vec::new();
                for (index, cmd) in cmds.into_iter().enumerate() {
                    if index % PIPELINE_BATCH == 0 {
                        let mut pipe = redis::pipe();
                        // Per-command errors come back as values, so that one NOSCRIPT does
                        // not hide the answers of the others.
                        pipe.ignore_errors();
                        pipes.push(pipe);
                    }
                    if let Some(pipe) = pipes.last_mut() {
                        pipe.add_command(cmd);
                    }
                }
                let batches = pipes.iter().map(|pipe| {
                    let mut connection = connection.clone();
                    async move { pipe.query_async::<Vec<Value>>(&mut connection).await }
                });
                let replies = futures::future::try_join_all(batches).await?;
                Ok(replies
                    .into_iter()
                    .flatten()
                    .map(Value::extract_error)
                    .collect())
            }
            Connection::Cluster(connection) => {
                let requests = cmds.into_iter().map(|cmd| {
                    let mut connection = connection.clone();
                    async move { cmd.query_async::<Value>(&mut connection).await }
                });
                Ok(futures::stream::iter(requests)
                    .buffered(CLUSTER_IN_FLIGHT)
                    .collect()
                    .await)
            }
        }
    }

    /// Loads a script into the server's script cache (every primary of a cluster).
    pub(crate) async fn load(&self, script: &Script) -> RedisResult<()> {
        match self {
            Connection::Node(connection) => script.load_async(&mut connection.clone()).await?,
            Connection::Cluster(connection) => script.load_async(&mut connection.clone()).await?,
        };
        Ok(())
    }

    /// Runs `cmd`, an EVALSHA of `script`, loading the script first if the server lost it.
    pub(crate) async fn eval(&self, script: &Script, cmd: &Cmd) -> RedisResult<Value> {
        match self.query(cmd).await {
            Err(error) if is_noscript(&error) => {
                self.load(script).await?;
                self.query(cmd).await
            }
            answer => answer,
        }
    }

    /// Runs `make(0..count)`, EVALSHAs of `script` (one per reader), answers in order; the
    /// ones that met a server without the script are made again and rerun after loading it.
    pub(crate) async fn eval_each(
        &self,
        script: &Script,
        count: usize,
        make: impl Fn(usize) -> Cmd + Send + Sync,
    ) -> RedisResult<Vec<Value>> {
        let mut answers = self.query_each((0..count).map(&make).collect()).await?;
        let missing: Vec<usize> = answers
            .iter()
            .enumerate()
            .filter(|(_, answer)| matches!(answer, Err(error) if is_noscript(error)))
            .map(|(index, _)| index)
            .collect();
        if !missing.is_empty() {
            self.load(script).await?;
            let retried = self
                .query_each(missing.iter().map(|index| make(*index)).collect())
                .await?;
            for (index, answer) in missing.into_iter().zip(retried) {
                answers[index] = answer;
            }
        }
        answers.into_iter().collect()
    }
}

fn is_noscript(error: &RedisError) -> bool {
    error.kind() == ErrorKind::Server(ServerErrorKind::NoScript)
}

/// `EVALSHA <sha> <keys> <keys...>`; the caller adds the arguments.
pub(crate) fn evalsha(script: &Script, keys: &[&str]) -> Cmd {
    let mut cmd = redis::cmd("EVALSHA");
    cmd.arg(script.get_hash()).arg(keys.len()).arg(keys);
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_node_urls_pass_through() {
        for url in [
            "redis://127.0.0.1:6379",
            "rediss://u:p@cache.example:6380/0",
        ] {
            assert_eq!(target(url), Ok(Target::Node(url.to_owned())));
        }
    }

    #[test]
    fn cluster_urls_become_one_url_per_seed() {
        assert_eq!(
            target("redis+cluster://10.0.0.1:7000,10.0.0.2:7001"),
            Ok(Target::Cluster(vec![
                "redis://10.0.0.1:7000".to_owned(),
                "redis://10.0.0.2:7001".to_owned(),
            ]))
        );
        assert_eq!(
            target("rediss+cluster://user:p%40ss@cfg.cache.example:6379/?protocol=resp3"),
            Ok(Target::Cluster(vec![
                "rediss://user:p%40ss@cfg.cache.example:6379/?protocol=resp3".to_owned()
            ]))
        );
        assert_eq!(
            target("redis+cluster://:secret@a:1, b:2"),
            Ok(Target::Cluster(vec![
                "redis://:secret@a:1".to_owned(),
                "redis://:secret@b:2".to_owned(),
            ]))
        );
        assert!(target("redis+cluster://a:1,,b:2").is_err());
        assert!(target("rediss+cluster://").is_err());
    }
}
