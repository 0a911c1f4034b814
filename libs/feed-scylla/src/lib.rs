//! The home feed's durable store on ScyllaDB (or Cassandra): [`ScyllaPostStore`], the
//! [`PostStore`] of `photoshare-feed-store` on the scylla driver, for operators who run Scylla
//! rather than PostgreSQL. It behaves exactly as the SQL store does (the same conformance
//! suite runs against both); the schema is `migrations/scylla`.
//!
//! An author's posts are partitioned by month ([`Bucket`]) so that no partition grows without
//! bound, and `author_buckets` lists the months each author posted in, so that a read walks only
//! those, newest first, and stops once it has its rows ([`plan_walk`]). Every request names one
//! partition and goes through a statement prepared at connect, routed token-aware to its
//! replicas.
//!
//! Like every store it holds ids only and decides nothing: who may see a post is the feed
//! service's business. It must not create the production keyspace (replication is the
//! operator's choice), run scans or lightweight transactions on the hot path, or forget a
//! deleted post while a late publish event could still bring it back (tombstones live 30 days).

mod buckets;
mod schema;
mod statements;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::{self, StreamExt, TryStreamExt};
use photoshare_feed_store::{merge_newest_first, FeedEntry, PostStore, StoreError};
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::policies::load_balancing::DefaultPolicy;
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::Consistency;

pub use buckets::{plan_walk, Bucket};
pub use schema::{
    statements as cql_statements, validate_keyspace, Migration, SchemaError,
    DELETED_POSTS_TTL_SECS, MIGRATIONS,
};

use schema::create_keyspace;
use statements::{Cql, Prepared};

/// Requests one call keeps in flight when it reads many authors or checks many posts: enough
/// to hide round trips, few enough that one feed read cannot flood a node's queues.
pub const MAX_IN_FLIGHT: usize = 64;

/// How to connect, beyond the nodes and the keyspace.
#[derive(Debug, Clone)]
pub struct ScyllaOptions {
    /// Create the keyspace, if missing, with `SimpleStrategy` and this replication factor:
    /// for development and tests only. `None` (the default) expects the operator to have
    /// created it with `NetworkTopologyStrategy`.
    pub create_keyspace: Option<u32>,
    /// The data centre whose nodes serve this process (`LOCAL_QUORUM` is counted there). `None`
    /// treats every node as local, right for a single-DC cluster.
    pub local_datacenter: Option<String>,
    /// How long to wait for a node to accept a connection.
    pub connect_timeout: Duration,
    /// How long one request may take, retries included, before it fails.
    pub request_timeout: Duration,
}

impl Default for ScyllaOptions {
    fn default() -> ScyllaOptions {
        ScyllaOptions {
            create_keyspace: None,
            local_datacenter: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// The durable post store on Scylla. Cheap to clone: clones share one session (the driver
/// keeps a connection per shard of every node).
#[derive(Clone)]
pub struct ScyllaPostStore {
    session: Arc<Session>,
    statements: Arc<Prepared>,
}

pub(crate) fn failed(error: impl std::fmt::Display) -> StoreError {
    StoreError::backend("scylla", error)
}

/// A cursor as the `post_id < ?` bound: ids are positive, so "from the start" is `i64::MAX`
/// (as in the SQL store).
fn upper_bound(before: Option<u64>) -> i64 {
    before.map_or(i64::MAX, |id| id.min(i64::MAX as u64) as i64)
}

/// A row count as a CQL `LIMIT` (an `int`).
fn cql_limit(limit: usize) -> i32 {
    limit.min(i32::MAX as usize) as i32
}

/// The primary key of a post's row in `posts_by_author`, as bound values.
fn post_key(entry: FeedEntry) -> (i64, i32, i64) {
    (
        entry.author_id as i64,
        Bucket::of_id(entry.post_id).to_cql(),
        entry.post_id as i64,
    )
}

impl ScyllaPostStore {
    /// Connects to the production keyspace, which must exist, applies [`MIGRATIONS`] and
    /// prepares every statement. `nodes` are `host:port` contact points; the driver discovers
    /// the rest of the cluster from them.
    pub async fn connect(nodes: &[String], keyspace: &str) -> Result<ScyllaPostStore, StoreError> {
        ScyllaPostStore::connect_with(nodes, keyspace, ScyllaOptions::default()).await
    }

    /// [`ScyllaPostStore::connect`] with options (e.g. creating a development keyspace).
    pub async fn connect_with(
        nodes: &[String],
        keyspace: &str,
        options: ScyllaOptions,
    ) -> Result<ScyllaPostStore, StoreError> {
        validate_keyspace(keyspace).map_err(failed)?;
        if nodes.is_empty() {
            return Err(failed("no Scylla node to connect to"));
        }
        // Token-aware (the default policy's default, said out loud): each request goes straight
        // to a replica of its partition, on the shard that owns it, saving the coordinator hop.
        let mut policy = DefaultPolicy::builder().token_aware(true);
        if let Some(datacenter) = &options.local_datacenter {
            policy = policy.prefer_datacenter(datacenter.clone());
        }
        // LOCAL_QUORUM reads and writes overlap in at least one replica, so a read issued after
        // a write returned sees it: the tombstone checks of `record_post` rely on that.
        let profile = ExecutionProfile::builder()
            .load_balancing_policy(policy.build())
            .consistency(Consistency::LocalQuorum)
            .request_timeout(Some(options.request_timeout))
            .build();
        let session = SessionBuilder::new()
            .known_nodes(nodes)
            .connection_timeout(options.connect_timeout)
            .default_execution_profile_handle(profile.into_handle())
            .build()
            .await
            .map_err(|error| failed(format!("cannot connect to {}: {error}", nodes.join(","))))?;

        if let Some(replication_factor) = options.create_keyspace {
            let cql = create_keyspace(keyspace, replication_factor).map_err(failed)?;
            session.query_unpaged(cql, ()).await.map_err(failed)?;
        }
        apply_migrations(&session, keyspace).await?;
        let statements = Prepared::new(&session, &Cql::new(keyspace)).await?;
        Ok(ScyllaPostStore {
            session: Arc::new(session),
            statements: Arc::new(statements),
        })
    }

    /// Whether the cluster answers a query: for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.session
            .execute_unpaged(&self.statements.ping, ())
            .await
            .map_err(failed)?
            .into_rows_result()
            .map_err(failed)?;
        Ok(())
    }

    /// Whether a single-row read by full primary key finds a row.
    async fn finds_row(
        &self,
        statement: &PreparedStatement,
        values: impl scylla::serialize::row::SerializeRow,
    ) -> Result<bool, StoreError> {
        let result = self
            .session
            .execute_unpaged(statement, values)
            .await
            .map_err(failed)?
            .into_rows_result()
            .map_err(failed)?;
        Ok(result.rows_num() > 0)
    }

    async fn write(
        &self,
        statement: &PreparedStatement,
        values: impl scylla::serialize::row::SerializeRow,
    ) -> Result<(), StoreError> {
        self.session
            .execute_unpaged(statement, values)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn is_deleted(&self, post_id: u64) -> Result<bool, StoreError> {
        self.finds_row(&self.statements.select_deleted, (post_id as i64,))
            .await
    }

    async fn is_recorded(&self, entry: FeedEntry) -> Result<bool, StoreError> {
        self.finds_row(&self.statements.select_post, post_key(entry))
            .await
    }

    /// The months `author` posted in. One partition of at most twelve rows a year, read in
    /// pages all the same.
    async fn buckets_of(&self, author: u64) -> Result<Vec<Bucket>, StoreError> {
        self.session
            .execute_iter(self.statements.select_buckets.clone(), (author as i64,))
            .await
            .map_err(failed)?
            .rows_stream::<(i32,)>()
            .map_err(failed)?
            .map_ok(|(bucket,)| Bucket::from_cql(bucket))
            .try_collect()
            .await
            .map_err(failed)
    }

    /// Up to `limit` of `author`'s posts in `bucket` below `bound`, newest first, appended to
    /// `posts`.
    async fn read_bucket(
        &self,
        author: u64,
        bucket: Bucket,
        bound: i64,
        limit: usize,
        posts: &mut Vec<FeedEntry>,
    ) -> Result<(), StoreError> {
        let values = (author as i64, bucket.to_cql(), bound, cql_limit(limit));
        let mut rows = self
            .session
            .execute_iter(self.statements.select_posts_below.clone(), values)
            .await
            .map_err(failed)?
            .rows_stream::<(i64,)>()
            .map_err(failed)?;
        while let Some((post_id,)) = rows.try_next().await.map_err(failed)? {
            posts.push(FeedEntry::new(post_id as u64, author));
        }
        Ok(())
    }
}

/// Runs every migration in the keyspace. Each statement is `IF NOT EXISTS`, so this is a no-op
/// on an up-to-date keyspace; the driver waits for schema agreement after each change, so the
/// statements prepared next see the tables on every node.
async fn apply_migrations(session: &Session, keyspace: &str) -> Result<(), StoreError> {
    // The migration files name tables without a keyspace (the operator runs them with
    // `cqlsh -k`), so they run in the session's keyspace.
    session
        .use_keyspace(keyspace, false)
        .await
        .map_err(|error| {
            failed(format!(
                "keyspace {keyspace}: {error} (the operator creates it: see \
             migrations/scylla/0001_init.cql)"
            ))
        })?;
    for migration in MIGRATIONS {
        for statement in cql_statements(migration.cql) {
            session
                .query_unpaged(statement, ())
                .await
                .map_err(|error| failed(format!("migration {}: {error}", migration.name)))?;
        }
    }
    Ok(())
}

#[async_trait]
impl PostStore for ScyllaPostStore {
    async fn record_post(&self, post: FeedEntry) -> Result<bool, StoreError> {
        let statements = &self.statements;
        if self.is_deleted(post.post_id).await? {
            // Removing the row records nothing, and it heals a crash between an earlier
            // attempt's insert and its re-check below (the event is then delivered again).
            self.write(&statements.delete_post, post_key(post)).await?;
            return Ok(false);
        }
        // The month first: a post row whose month is not listed would be invisible to reads.
        let (author, bucket, post_id) = post_key(post);
        self.write(&statements.insert_bucket, (author, bucket))
            .await?;
        self.write(&statements.insert_post, (author, bucket, post_id))
            .await?;
        // Scylla has no transaction across the two tables, so a delete may run between the
        // check above and the insert: `delete_post` writes the tombstone, removes the row (not
        // yet there), and then our insert lands. Checking again closes that race without a
        // lightweight transaction (four round trips of Paxos on every publish): the delete
        // writes its tombstone before it removes the row, so either this read sees the
        // tombstone and removes the row, or the tombstone came later and so did the delete's
        // removal, which then started after our insert had returned (and wins: the nodes stamp
        // writes with their clocks, no client clock is involved). Meanwhile `existing`, which
        // the feed checks at read time, already hides the post, as it checks the tombstone too.
        if self.is_deleted(post.post_id).await? {
            self.write(&statements.delete_post, (author, bucket, post_id))
                .await?;
            return Ok(false);
        }
        Ok(true)
    }

    async fn delete_post(&self, post: FeedEntry) -> Result<(), StoreError> {
        // Tombstone first (see `record_post` for why the order matters). It expires with the
        // table's 30-day TTL. The month stays in `author_buckets`: listing a month that turned
        // empty costs one empty read, and removing it could race a publish in the same month.
        self.write(
            &self.statements.insert_deleted,
            (post.post_id as i64, post.author_id as i64),
        )
        .await?;
        self.write(&self.statements.delete_post, post_key(post))
            .await
    }

    async fn posts_by_author(
        &self,
        author: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        // `LIMIT 0` is not valid CQL, and nothing lies below id 0.
        if limit == 0 || before == Some(0) {
            return Ok(Vec::new());
        }
        let plan = plan_walk(self.buckets_of(author).await?, before);
        let bound = upper_bound(before);
        let mut posts = Vec::new();
        // Months one after the other, newest first: usually the newest holds the page, and
        // reading older months at once would fetch rows the caller never sees.
        for bucket in plan {
            let remaining = limit - posts.len();
            self.read_bucket(author, bucket, bound, remaining, &mut posts)
                .await?;
            if posts.len() >= limit {
                break;
            }
        }
        posts.truncate(limit);
        Ok(posts)
    }

    async fn posts_by_authors(
        &self,
        authors: &[u64],
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        let mut unique = authors.to_vec();
        unique.sort_unstable();
        unique.dedup();
        // Each author's newest `limit` are enough: the merged page cannot hold more of theirs.
        let lists: Vec<Vec<FeedEntry>> = stream::iter(unique)
            .map(|author| self.posts_by_author(author, before, limit))
            .buffer_unordered(MAX_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(merge_newest_first(lists, limit))
    }

    async fn existing(&self, entries: &[FeedEntry]) -> Result<HashSet<u64>, StoreError> {
        let unique: HashSet<FeedEntry> = entries.iter().copied().collect();
        // Two single-row reads per post, at once: the row by its full key (so a post id under
        // another author does not count, as in the SQL store) and its tombstone (which hides
        // a post that a publish racing its delete wrote back, until `record_post` removes it).
        let found: Vec<Option<u64>> = stream::iter(unique)
            .map(|entry| async move {
                let (recorded, deleted) = futures::future::try_join(
                    self.is_recorded(entry),
                    self.is_deleted(entry.post_id),
                )
                .await?;
                Ok::<_, StoreError>((recorded && !deleted).then_some(entry.post_id))
            })
            .buffer_unordered(MAX_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn set_unpushed(&self, author: u64, unpushed: bool) -> Result<(), StoreError> {
        let statement = if unpushed {
            &self.statements.insert_unpushed
        } else {
            &self.statements.delete_unpushed
        };
        self.write(statement, (author as i64,)).await
    }

    async fn has_unpushed(&self, author: u64) -> Result<bool, StoreError> {
        self.finds_row(&self.statements.select_unpushed, (author as i64,))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_become_exclusive_bigint_bounds() {
        assert_eq!(upper_bound(None), i64::MAX);
        assert_eq!(upper_bound(Some(42)), 42);
        assert_eq!(upper_bound(Some(u64::MAX)), i64::MAX);
    }

    #[test]
    fn limits_fit_a_cql_int() {
        assert_eq!(cql_limit(20), 20);
        assert_eq!(cql_limit(usize::MAX), i32::MAX);
    }

    #[test]
    fn a_post_key_carries_its_month() {
        // Day 40 after the id epoch is 2025-02-10.
        let post = ((40 * 86_400_000) << 23) | 7;
        assert_eq!(post_key(FeedEntry::new(post, 9)), (9, 202502, post as i64));
    }

    #[tokio::test]
    async fn a_bad_keyspace_is_refused_before_any_connection() {
        let error = ScyllaPostStore::connect(&["127.0.0.1:9042".to_owned()], "bad-name")
            .await
            .err()
            .expect("refused");
        assert!(
            error.to_string().starts_with("scylla: invalid keyspace"),
            "{error}"
        );
        let error = ScyllaPostStore::connect(&[], "photoshare")
            .await
            .err()
            .expect("refused");
        assert_eq!(error.to_string(), "scylla: no Scylla node to connect to");
    }

    #[tokio::test]
    async fn an_unreachable_node_is_a_store_error() {
        // Port 1 on the loopback: nothing listens, so the connection is refused at once.
        let error = ScyllaPostStore::connect_with(
            &["127.0.0.1:1".to_owned()],
            "photoshare",
            ScyllaOptions {
                connect_timeout: Duration::from_secs(2),
                ..ScyllaOptions::default()
            },
        )
        .await
        .err()
        .expect("nothing listens on port 1");
        let message = error.to_string();
        assert!(
            message.starts_with("scylla: cannot connect to 127.0.0.1:1: "),
            "{message}"
        );
    }
}
