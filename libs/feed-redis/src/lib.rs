//! The home feed's per-reader cache ([`FeedCache`]) in Redis: one sorted set of post ids per
//! active reader, capped, expiring when the reader stops reading. Same semantics as the
//! in-process [`photoshare_feed_store::MemoryCache`], checked by the same conformance suite
//! against a real server; production runs it on a Redis Cluster (ElastiCache cluster mode).
//!
//! URLs: `redis://host:port` and `rediss://host:port` (TLS, Mozilla's roots built in) for one
//! node; `redis+cluster://host:port[,host:port...]` and `rediss+cluster://...` for a cluster,
//! naming one or more seed nodes (a configuration endpoint will do), with optional
//! `user:password@` before the first host applying to every node.
//!
//! This crate stores ids and decides nothing about who may see them. It must never create a
//! reader's cache as a side effect of a write other than a rebuild, and never infer a cache's
//! existence from its sorted set (an empty sorted set does not exist in Redis): the meta key
//! says whether a cache exists. Layout and encoding: `keys.rs`; the atomic steps: `scripts.rs`.

mod connection;
mod keys;
mod scripts;

use std::time::Duration;

use async_trait::async_trait;
use photoshare_feed_store::{CachedPage, FeedCache, FeedEntry, StoreError};
use redis::{RedisError, Value};

use connection::{evalsha, Connection};
use keys::Keys;
use scripts::Scripts;

const BACKEND: &str = "redis";

/// The largest page a read asks the server for: far above any cap, and small enough that the
/// script's arithmetic stays in exact integers.
const MAX_LIMIT: usize = 1 << 30;

/// The largest cap accepted (a feed cache is hundreds of entries; this only keeps the numbers
/// the scripts compute exact).
const MAX_CAP: usize = 1 << 30;

/// How a [`RedisCache`] keeps feeds.
#[derive(Debug, Clone)]
pub struct RedisCacheOptions {
    /// Entries kept per reader (the newest).
    pub cap: usize,
    /// How long a cache lives after its reader's last read (or its last rebuild).
    pub ttl: Duration,
    /// Put before every key (`<prefix>feed:{<user>}`), e.g. to share a server between
    /// deployments or tests. Empty in production. Must not contain braces.
    pub key_prefix: String,
}

/// The [`FeedCache`] in Redis. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct RedisCache {
    connection: Connection,
    keys: Keys,
    scripts: std::sync::Arc<Scripts>,
    cap: String,
    ttl_ms: String,
}

impl RedisCache {
    /// Connects to the node or cluster at `url` (see the crate documentation for the forms)
    /// and loads the scripts. Fails if the server cannot be reached or the options make no
    /// sense (a zero ttl, a prefix with braces).
    pub async fn connect(url: &str, options: RedisCacheOptions) -> Result<RedisCache, StoreError> {
        let keys = Keys::new(&options.key_prefix).map_err(backend)?;
        if options.cap > MAX_CAP {
            return Err(backend(format!(
                "cap {} is above the largest supported, {MAX_CAP}",
                options.cap
            )));
        }
        let ttl_ms = options.ttl.as_millis();
        // PEXPIRE 0 would delete the keys at once: a cache that can never be read.
        if ttl_ms == 0 {
            return Err(backend("the ttl must be at least 1 ms"));
        }
        let connection = Connection::open(url)
            .await
            .map_err(|e| backend(format!("{}: {e}", redacted(url))))?;
        let scripts = Scripts::new();
        // Loaded now so that the first calls do not each meet NOSCRIPT; a server that loses
        // them later (a restart, a failover) gets them again on demand.
        for script in scripts.all() {
            connection.load(script).await.map_err(backend)?;
        }
        Ok(RedisCache {
            connection,
            keys,
            scripts: std::sync::Arc::new(scripts),
            cap: options.cap.to_string(),
            ttl_ms: ttl_ms.to_string(),
        })
    }

    /// Readiness: the server (every primary of a cluster) answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.connection
            .query(&redis::cmd("PING"))
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// EVALSHA of `script` on `user`'s two keys.
    fn on_reader(&self, script: &redis::Script, user: u64) -> redis::Cmd {
        evalsha(script, &[&self.keys.feed(user), &self.keys.meta(user)])
    }
}

#[async_trait]
impl FeedCache for RedisCache {
    async fn read(
        &self,
        user: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Option<CachedPage>, StoreError> {
        let mut cmd = self.on_reader(&self.scripts.read, user);
        cmd.arg(&self.ttl_ms).arg(limit.min(MAX_LIMIT));
        match before {
            Some(cursor) => cmd.arg(keys::padded(cursor)).arg(keys::score(cursor)),
            None => cmd.arg("").arg(""),
        };
        let answer = self
            .connection
            .eval(&self.scripts.read, &cmd)
            .await
            .map_err(backend)?;
        parse_page(answer)
    }

    async fn begin_rebuild(&self, user: u64) -> Result<(), StoreError> {
        let mut cmd = self.on_reader(&self.scripts.begin_rebuild, user);
        cmd.arg(&self.ttl_ms);
        self.connection
            .eval(&self.scripts.begin_rebuild, &cmd)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn finish_rebuild(
        &self,
        user: u64,
        entries: &[FeedEntry],
        complete: bool,
    ) -> Result<(), StoreError> {
        let mut cmd = self.on_reader(&self.scripts.finish_rebuild, user);
        // Incomplete: the window is complete from its oldest entry up.
        let oldest = match entries.iter().map(|entry| entry.post_id).min() {
            Some(oldest) if !complete => keys::padded(oldest),
            _ => String::new(),
        };
        cmd.arg(&self.ttl_ms).arg(&self.cap).arg(oldest);
        add_entries(&mut cmd, entries);
        self.connection
            .eval(&self.scripts.finish_rebuild, &cmd)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn push(&self, users: &[u64], entry: FeedEntry) -> Result<usize, StoreError> {
        let score = keys::score(entry.post_id);
        let member = keys::member(entry);
        let make = |index: usize| {
            let mut cmd = self.on_reader(&self.scripts.add, users[index]);
            cmd.arg(&self.cap).arg(&score).arg(&member);
            cmd
        };
        let answers = self
            .connection
            .eval_each(&self.scripts.add, users.len(), make)
            .await
            .map_err(backend)?;
        answers.into_iter().try_fold(0, |landed, answer| {
            Ok(landed + usize::from(landed_in(answer)?))
        })
    }

    async fn insert(&self, user: u64, entries: &[FeedEntry]) -> Result<bool, StoreError> {
        let mut cmd = self.on_reader(&self.scripts.add, user);
        cmd.arg(&self.cap);
        add_entries(&mut cmd, entries);
        let answer = self
            .connection
            .eval(&self.scripts.add, &cmd)
            .await
            .map_err(backend)?;
        landed_in(answer)
    }

    async fn remove_post(&self, users: &[u64], entry: FeedEntry) -> Result<(), StoreError> {
        // ZREM on a missing key changes nothing and creates nothing: no script needed.
        let member = keys::member(entry);
        let cmds = users
            .iter()
            .map(|user| {
                let mut cmd = redis::cmd("ZREM");
                cmd.arg(self.keys.feed(*user)).arg(&member);
                cmd
            })
            .collect();
        for answer in self.connection.query_each(cmds).await.map_err(backend)? {
            answer.map_err(backend)?;
        }
        Ok(())
    }

    async fn remove_author(&self, user: u64, author: u64) -> Result<(), StoreError> {
        let mut cmd = evalsha(&self.scripts.remove_author, &[&self.keys.feed(user)]);
        cmd.arg(keys::author_suffix(author));
        self.connection
            .eval(&self.scripts.remove_author, &cmd)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn wipe(&self, user: u64) -> Result<(), StoreError> {
        // One command: the two keys share a hash slot, so this works on a cluster too.
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.keys.feed(user)).arg(self.keys.meta(user));
        self.connection.query(&cmd).await.map_err(backend)?;
        Ok(())
    }
}

fn backend(error: impl std::fmt::Display) -> StoreError {
    StoreError::backend(BACKEND, error)
}

/// The URL without its password, for error messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Appends score, member pairs.
fn add_entries(cmd: &mut redis::Cmd, entries: &[FeedEntry]) {
    for entry in entries {
        cmd.arg(keys::score(entry.post_id))
            .arg(keys::member(*entry));
    }
}

/// The ADD script's answer: whether the reader had a cache.
fn landed_in(answer: Value) -> Result<bool, StoreError> {
    match answer {
        Value::Int(landed) => Ok(landed == 1),
        other => Err(unexpected(&other)),
    }
}

/// The READ script's answer (see `scripts.rs`).
fn parse_page(answer: Value) -> Result<Option<CachedPage>, StoreError> {
    let items = match answer {
        Value::Nil => return Ok(None),
        Value::Array(items) => items,
        other => return Err(unexpected(&other)),
    };
    let mut items = items.into_iter();
    let window_floor = match items.next() {
        Some(Value::BulkString(floor)) if floor.is_empty() => None,
        Some(Value::BulkString(floor)) => {
            Some(keys::parse_floor(&floor).ok_or_else(|| corrupt(&floor))?)
        }
        other => return Err(unexpected(&other.unwrap_or(Value::Nil))),
    };
    let entries = items
        .map(|item| match item {
            Value::BulkString(member) => {
                keys::parse_member(&member).ok_or_else(|| corrupt(&member))
            }
            other => Err(unexpected(&other)),
        })
        .collect::<Result<Vec<FeedEntry>, StoreError>>()?;
    Ok(Some(CachedPage {
        entries,
        window_floor,
    }))
}

fn unexpected(value: &Value) -> StoreError {
    backend(RedisError::from((
        redis::ErrorKind::UnexpectedReturnType,
        "unexpected answer from a feed script",
        format!("{value:?}"),
    )))
}

fn corrupt(member: &[u8]) -> StoreError {
    backend(format!(
        "a feed holds a value this crate did not write: {:?}",
        String::from_utf8_lossy(member)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn pages_parse() {
        assert_eq!(parse_page(Value::Nil).unwrap(), None);
        let page = parse_page(Value::Array(vec![
            bulk("00000000000000000005"),
            bulk("00000000000000000009:2"),
            bulk("00000000000000000007:1"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(page.window_floor, Some(5));
        assert_eq!(
            page.entries,
            vec![FeedEntry::new(9, 2), FeedEntry::new(7, 1)]
        );
        let above_all = parse_page(Value::Array(vec![bulk("18446744073709551616")]))
            .unwrap()
            .unwrap();
        assert_eq!(above_all.window_floor, Some(u64::MAX), "saturates");
        let complete = parse_page(Value::Array(vec![bulk("")])).unwrap().unwrap();
        assert_eq!(complete.window_floor, None);
        assert!(parse_page(Value::Array(vec![])).is_err());
        assert!(parse_page(Value::Array(vec![bulk(""), bulk("7:1")])).is_err());
        assert!(parse_page(Value::Int(1)).is_err());
    }

    #[test]
    fn passwords_stay_out_of_errors() {
        assert_eq!(
            redacted("rediss://user:secret@host:6379"),
            "rediss://***@host:6379"
        );
        assert_eq!(redacted("redis://host:6379"), "redis://host:6379");
    }
}
