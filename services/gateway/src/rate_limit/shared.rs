//! Rate-limit budgets in Redis, shared by every gateway replica: GCRA (the algorithm governor
//! uses in memory) in one Lua script per check, so reading and advancing a budget is atomic,
//! timed by Redis's own clock (replicas' clocks do not matter).
//!
//! A budget is one key, `<prefix>ratelimit:{<budget>:<id>}`, holding its theoretical arrival
//! time; it expires when the budget is whole again, so idle clients cost nothing. The braces
//! are a Redis Cluster hash tag around the whole budget name: whatever else a check ever reads
//! for that budget lands in the same slot.
//!
//! The connection is opened on first use. A check that meets no answer within
//! [`RESPONSE_TIMEOUT`] fails, and the next [`BACKOFF`] of checks do not try Redis at all: the
//! caller counts locally in the meantime (degraded to per replica, never to unlimited, never
//! to an error).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{RedisError, RedisResult, Script};
use tokio::sync::OnceCell;

use super::Quota;

/// A check is on the request path: when Redis takes longer than this, count locally instead.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// After a failure, Redis is left alone this long before it is tried again.
const BACKOFF: Duration = Duration::from_secs(5);

/// GCRA over one key holding the theoretical arrival time (TAT) in microseconds of Redis's
/// clock. ARGV[1]: the emission interval (microseconds per request), ARGV[2]: the burst.
/// Returns 0 when the request is allowed (and counted), else the microseconds to wait.
const GCRA: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local allowed_from = tat + interval - interval * burst
if allowed_from > now then
  return allowed_from - now
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000))
return 0
";

pub struct SharedLimiter {
    url: String,
    /// Prepended to every key: the deployment's prefix and `ratelimit:`.
    prefix: String,
    connection: OnceCell<Connection>,
    script: Script,
    /// When Redis last failed us, if it did lately.
    failed_at: Mutex<Option<Instant>>,
}

#[derive(Clone)]
enum Connection {
    /// Reconnects by itself after a failure.
    Node(ConnectionManager),
    /// Rediscovers the cluster's slots (and reconnects) by itself.
    Cluster(ClusterConnection),
}

impl SharedLimiter {
    pub fn new(url: &str, prefix: String) -> SharedLimiter {
        SharedLimiter {
            url: url.to_owned(),
            prefix,
            connection: OnceCell::new(),
            script: Script::new(GCRA),
            failed_at: Mutex::new(None),
        }
    }

    /// The key of `budget` for `id`.
    fn key(&self, budget: &str, id: &str) -> String {
        format!("{}{{{budget}:{id}}}", self.prefix)
    }

    /// Counts one request against `budget` for `id`: `None` if allowed, else how long to wait.
    /// An error means Redis could not say (the caller counts locally).
    pub async fn take(
        &self,
        budget: &str,
        id: &str,
        quota: Quota,
    ) -> Result<Option<Duration>, RedisError> {
        if self.backing_off() {
            return Err(RedisError::from((
                redis::ErrorKind::Io,
                "Redis failed moments ago; not tried again yet",
            )));
        }
        let answer = tokio::time::timeout(RESPONSE_TIMEOUT, self.run(budget, id, quota))
            .await
            .unwrap_or_else(|_| {
                Err(RedisError::from((
                    redis::ErrorKind::Io,
                    "no answer from Redis in time",
                )))
            });
        if answer.is_err() {
            *self.failed_at.lock().expect("lock poisoned") = Some(Instant::now());
        }
        answer
    }

    async fn run(&self, budget: &str, id: &str, quota: Quota) -> RedisResult<Option<Duration>> {
        let interval_us = 60_000_000 / u64::from(quota.per_minute.get());
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(self.key(budget, id))
            .arg(interval_us)
            .arg(quota.per_minute.get());
        let wait_us: u64 = match self.connection().await? {
            Connection::Node(connection) => {
                invocation.invoke_async(&mut connection.clone()).await?
            }
            Connection::Cluster(connection) => {
                invocation.invoke_async(&mut connection.clone()).await?
            }
        };
        Ok((wait_us > 0).then(|| Duration::from_micros(wait_us)))
    }

    fn backing_off(&self) -> bool {
        self.failed_at
            .lock()
            .expect("lock poisoned")
            .is_some_and(|at| at.elapsed() < BACKOFF)
    }

    async fn connection(&self) -> RedisResult<&Connection> {
        self.connection
            .get_or_try_init(|| Connection::open(&self.url))
            .await
    }
}

impl Connection {
    async fn open(url: &str) -> RedisResult<Connection> {
        if url.starts_with("rediss") {
            // rustls picks its provider from its crate features and panics if it finds two:
            // name the workspace's one. An error only says one is installed already.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        match seed_nodes(url) {
            None => {
                let client = redis::Client::open(url)?;
                let config = ConnectionManagerConfig::new()
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_connection_timeout(Some(RESPONSE_TIMEOUT))
                    .set_number_of_retries(1);
                Ok(Connection::Node(
                    ConnectionManager::new_with_config(client, config).await?,
                ))
            }
            Some(nodes) => {
                let client = ClusterClient::builder(nodes)
                    .response_timeout(RESPONSE_TIMEOUT)
                    .connection_timeout(RESPONSE_TIMEOUT)
                    .build()?;
                Ok(Connection::Cluster(client.get_async_connection().await?))
            }
        }
    }
}

/// The seed nodes of a cluster URL (`redis+cluster://[credentials@]host:port[,host:port...]`,
/// or `rediss+cluster://`), each as an ordinary URL with the same credentials and options, as
/// the feed cache reads it; `None` for a single node's URL.
fn seed_nodes(url: &str) -> Option<Vec<String>> {
    let (scheme, rest) = url
        .strip_prefix("redis+cluster://")
        .map(|rest| ("redis", rest))
        .or_else(|| {
            url.strip_prefix("rediss+cluster://")
                .map(|rest| ("rediss", rest))
        })?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (credentials, hosts) = match authority.rsplit_once('@') {
        Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
        None => (String::new(), authority),
    };
    Some(
        hosts
            .split(',')
            .map(str::trim)
            .filter(|host| !host.is_empty())
            .map(|host| format!("{scheme}://{credentials}{host}{tail}"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hash_tagged_per_budget() {
        let limiter = SharedLimiter::new("redis://127.0.0.1:1", "prod:ratelimit:".into());
        assert_eq!(
            limiter.key("login:account", "ann@example.com"),
            "prod:ratelimit:{login:account:ann@example.com}"
        );
    }

    #[test]
    fn cluster_urls_name_their_seed_nodes() {
        assert_eq!(seed_nodes("redis://127.0.0.1:6379"), None);
        assert_eq!(
            seed_nodes("rediss+cluster://u:p@a:1,b:2/?protocol=resp3"),
            Some(vec![
                "rediss://u:p@a:1/?protocol=resp3".to_owned(),
                "rediss://u:p@b:2/?protocol=resp3".to_owned(),
            ])
        );
    }
}
