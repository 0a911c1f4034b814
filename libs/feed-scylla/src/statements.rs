//! Every statement the store runs: their text (pure, so it is tested without a node) and the
//! prepared forms made once at connect.
//!
//! Table names carry the keyspace, so that the prepared statements do not depend on a
//! session-wide `USE` and the driver knows each statement's keyspace for token-aware routing.
//! Every read names a whole partition key, so each request goes to the replicas of one
//! partition: there is no scan and no `ALLOW FILTERING`.

use scylla::client::session::Session;
use scylla::statement::prepared::PreparedStatement;

use crate::failed;
use photoshare_feed_store::StoreError;

/// Rows per page when reading an author's posts: a page of a feed asks for tens, a cache
/// rebuild for up to the cap (800); larger reads come in pages of this size rather than one
/// response the coordinator must hold whole.
pub const POSTS_PAGE_SIZE: i32 = 1_000;

/// The CQL text of each statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cql {
    /// `(author_id, bucket)`: the author has posts in this month.
    pub insert_bucket: String,
    /// `(author_id)` → `bucket`: the months the author posted in, newest first.
    pub select_buckets: String,
    /// `(author_id, bucket, post_id)`.
    pub insert_post: String,
    /// `(author_id, bucket, post_id)`.
    pub delete_post: String,
    /// `(author_id, bucket, post_id)` → `post_id`: whether one post is recorded.
    pub select_post: String,
    /// `(author_id, bucket, before, limit)` → `post_id`: one month's posts below a cursor,
    /// newest first.
    pub select_posts_below: String,
    /// `(post_id, author_id)`: the tombstone of a deleted post (expires with the table's TTL).
    pub insert_deleted: String,
    /// `(post_id)` → `post_id`: whether a post was deleted.
    pub select_deleted: String,
    /// `(author_id)`.
    pub insert_unpushed: String,
    /// `(author_id)`.
    pub delete_unpushed: String,
    /// `(author_id)` → `author_id`.
    pub select_unpushed: String,
    /// No values: the cheapest request a node answers, for readiness.
    pub ping: String,
}

impl Cql {
    /// The statements on the tables of `keyspace` (already validated: it is pasted in).
    pub fn new(keyspace: &str) -> Cql {
        let posts = format!("{keyspace}.posts_by_author");
        let buckets = format!("{keyspace}.author_buckets");
        let deleted = format!("{keyspace}.deleted_posts");
        let unpushed = format!("{keyspace}.unpushed_authors");
        let one_post = "author_id = ? AND bucket = ? AND post_id = ?";
        Cql {
            insert_bucket: format!("INSERT INTO {buckets} (author_id, bucket) VALUES (?, ?)"),
            select_buckets: format!("SELECT bucket FROM {buckets} WHERE author_id = ?"),
            insert_post: format!(
                "INSERT INTO {posts} (author_id, bucket, post_id) VALUES (?, ?, ?)"
            ),
            delete_post: format!("DELETE FROM {posts} WHERE {one_post}"),
            select_post: format!("SELECT post_id FROM {posts} WHERE {one_post}"),
            select_posts_below: format!(
                "SELECT post_id FROM {posts} \
                 WHERE author_id = ? AND bucket = ? AND post_id < ? LIMIT ?"
            ),
            insert_deleted: format!("INSERT INTO {deleted} (post_id, author_id) VALUES (?, ?)"),
            select_deleted: format!("SELECT post_id FROM {deleted} WHERE post_id = ?"),
            insert_unpushed: format!("INSERT INTO {unpushed} (author_id) VALUES (?)"),
            delete_unpushed: format!("DELETE FROM {unpushed} WHERE author_id = ?"),
            select_unpushed: format!("SELECT author_id FROM {unpushed} WHERE author_id = ?"),
            ping: "SELECT release_version FROM system.local WHERE key = 'local'".to_owned(),
        }
    }

    /// Every statement, with its name, for checks over all of them.
    #[cfg(test)]
    pub fn all(&self) -> [(&'static str, &str); 12] {
        [
            ("insert_bucket", &self.insert_bucket),
            ("select_buckets", &self.select_buckets),
            ("insert_post", &self.insert_post),
            ("delete_post", &self.delete_post),
            ("select_post", &self.select_post),
            ("select_posts_below", &self.select_posts_below),
            ("insert_deleted", &self.insert_deleted),
            ("select_deleted", &self.select_deleted),
            ("insert_unpushed", &self.insert_unpushed),
            ("delete_unpushed", &self.delete_unpushed),
            ("select_unpushed", &self.select_unpushed),
            ("ping", &self.ping),
        ]
    }
}

/// The prepared statements, made once at connect; executing one sends only its id and values.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub insert_bucket: PreparedStatement,
    pub select_buckets: PreparedStatement,
    pub insert_post: PreparedStatement,
    pub delete_post: PreparedStatement,
    pub select_post: PreparedStatement,
    pub select_posts_below: PreparedStatement,
    pub insert_deleted: PreparedStatement,
    pub select_deleted: PreparedStatement,
    pub insert_unpushed: PreparedStatement,
    pub delete_unpushed: PreparedStatement,
    pub select_unpushed: PreparedStatement,
    pub ping: PreparedStatement,
}

impl Prepared {
    pub async fn new(session: &Session, cql: &Cql) -> Result<Prepared, StoreError> {
        let mut posts_below = prepare(session, &cql.select_posts_below).await?;
        posts_below.set_page_size(POSTS_PAGE_SIZE);
        Ok(Prepared {
            insert_bucket: prepare(session, &cql.insert_bucket).await?,
            select_buckets: prepare(session, &cql.select_buckets).await?,
            insert_post: prepare(session, &cql.insert_post).await?,
            delete_post: prepare(session, &cql.delete_post).await?,
            select_post: prepare(session, &cql.select_post).await?,
            select_posts_below: posts_below,
            insert_deleted: prepare(session, &cql.insert_deleted).await?,
            select_deleted: prepare(session, &cql.select_deleted).await?,
            insert_unpushed: prepare(session, &cql.insert_unpushed).await?,
            delete_unpushed: prepare(session, &cql.delete_unpushed).await?,
            select_unpushed: prepare(session, &cql.select_unpushed).await?,
            ping: prepare(session, &cql.ping).await?,
        })
    }
}

async fn prepare(session: &Session, cql: &str) -> Result<PreparedStatement, StoreError> {
    let mut statement = session.prepare(cql).await.map_err(failed)?;
    // Every statement here is idempotent (writes set fixed values, deletes remove fixed rows,
    // and the store's callers are at-least-once anyway), which lets the driver retry them and
    // run speculative executions safely after a timeout.
    statement.set_is_idempotent(true);
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markers(cql: &str) -> usize {
        cql.matches('?').count()
    }

    #[test]
    fn every_table_is_qualified_with_the_keyspace() {
        let cql = Cql::new("feed_test");
        for (name, text) in cql.all() {
            if name == "ping" {
                assert!(text.contains("FROM system.local"));
                continue;
            }
            let table = text
                .split_whitespace()
                .skip_while(|word| !matches!(*word, "INTO" | "FROM"))
                .nth(1)
                .unwrap_or_else(|| panic!("{name}: no table in {text}"));
            assert!(table.starts_with("feed_test."), "{name}: {text}");
        }
    }

    #[test]
    fn values_bind_in_the_documented_order() {
        let cql = Cql::new("ks");
        let expected = [
            ("insert_bucket", 2),
            ("select_buckets", 1),
            ("insert_post", 3),
            ("delete_post", 3),
            ("select_post", 3),
            ("select_posts_below", 4),
            ("insert_deleted", 2),
            ("select_deleted", 1),
            ("insert_unpushed", 1),
            ("delete_unpushed", 1),
            ("select_unpushed", 1),
            ("ping", 0),
        ];
        for ((name, text), (expected_name, count)) in cql.all().into_iter().zip(expected) {
            assert_eq!(name, expected_name);
            assert_eq!(markers(text), count, "{name}: {text}");
        }
        assert_eq!(
            cql.insert_post,
            "INSERT INTO ks.posts_by_author (author_id, bucket, post_id) VALUES (?, ?, ?)"
        );
        assert_eq!(
            cql.insert_deleted,
            "INSERT INTO ks.deleted_posts (post_id, author_id) VALUES (?, ?)"
        );
    }

    #[test]
    fn reads_name_a_whole_partition_key() {
        let cql = Cql::new("ks");
        for text in [&cql.select_post, &cql.select_posts_below, &cql.delete_post] {
            assert!(
                text.contains("WHERE author_id = ? AND bucket = ? AND post_id "),
                "{text}"
            );
        }
        assert!(cql.select_posts_below.ends_with("AND post_id < ? LIMIT ?"));
        for (name, text) in cql.all() {
            assert!(!text.contains("ALLOW FILTERING"), "{name}");
            assert!(!text.contains(" IN "), "{name}: one partition per request");
            assert!(
                !text.contains("IF NOT EXISTS"),
                "{name}: no lightweight transactions"
            );
            if text.starts_with("SELECT") || text.starts_with("DELETE") {
                assert!(text.contains(" WHERE "), "{name}: {text}");
            }
        }
    }
}
