//! The graph service's SQL (portable; see photoshare-db). Every follow that begins or ends
//! changes both users' rows in `follow_counts` and enqueues its event in the same transaction,
//! so the counts never drift, reads never count rows, and no event is lost or invented.
//!
//! Every transaction starts with a write, so SQLite takes its write lock up front and a
//! concurrent writer waits (busy_timeout) instead of failing on a lock upgrade. On PostgreSQL
//! every transaction takes its row locks in one order (the pair's request, the pair's edge, then
//! the counters by ascending user id), so concurrent follows cannot deadlock. Nothing here
//! decides who may do what beyond the conditions written into the statements.

use std::collections::{BTreeMap, HashMap, HashSet};

use photoshare_db::Database;
use photoshare_events::Message;
use sqlx::{Any, Row, Transaction};

use crate::error::GraphError;

/// An event to enqueue with a change.
pub struct Event<'a> {
    pub id: u64,
    pub message: &'a Message,
}

/// What asking to follow a private account did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// The requester already follows the owner: nothing was asked.
    AlreadyFollowing,
    /// A request is pending (new, or it already was).
    Pending,
}

/// What an unfollow removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    pub edge: bool,
    pub request: bool,
}

/// A user's counts as stored; a user without a row has zeros.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub followers: u64,
    pub following: u64,
}

/// How a viewer stands towards some users, and their counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relations {
    /// The viewer follows these.
    pub following: HashSet<u64>,
    /// These follow the viewer.
    pub followed_by: HashSet<u64>,
    /// The viewer awaits these users' approval.
    pub requested: HashSet<u64>,
    pub counts: HashMap<u64, Counts>,
}

/// A follow edge for [`Store::import_follows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedFollow {
    pub id: u64,
    pub follower_id: u64,
    pub followee_id: u64,
}

/// Edges per statement in [`Store::import_follows`] (4 parameters each, far below both
/// backends' parameter limits).
const IMPORT_CHUNK: usize = 1000;

#[derive(Clone)]
pub struct Store {
    database: Database,
}

impl Store {
    pub fn new(database: Database) -> Store {
        Store { database }
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Makes `follower` follow `followee` (removing a pending request of the pair), counts it and
    /// enqueues `event`, atomically. False (no count, no event) if the edge already existed.
    pub async fn follow(
        &self,
        edge_id: u64,
        follower: u64,
        followee: u64,
        event: Event<'_>,
        now_ms: i64,
    ) -> Result<bool, GraphError> {
        let mut tx = self.database.pool().begin().await?;
        delete_request(&mut tx, follower, followee).await?;
        let followed = insert_edge(&mut tx, edge_id, follower, followee, event, now_ms).await?;
        tx.commit().await?;
        Ok(followed)
    }

    /// Records that `requester` asks to follow `owner`, unless it already follows or has asked.
    pub async fn ask(
        &self,
        request_id: u64,
        requester: u64,
        owner: u64,
        now_ms: i64,
    ) -> Result<Asked, GraphError> {
        let mut tx = self.database.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO follow_requests (id, requester_id, owner_id, created_at_ms) \
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS \
             (SELECT 1 FROM follows WHERE follower_id = $2 AND followee_id = $3) \
             ON CONFLICT (requester_id, owner_id) DO NOTHING",
        )
        .bind(request_id as i64)
        .bind(requester as i64)
        .bind(owner as i64)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            tx.commit().await?;
            return Ok(Asked::Pending);
        }
        let following: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM follows WHERE follower_id = $1 AND followee_id = $2",
        )
        .bind(requester as i64)
        .bind(owner as i64)
        .fetch_optional(&mut *tx)
        .await?;
        tx.rollback().await?;
        Ok(if following.is_some() {
            Asked::AlreadyFollowing
        } else {
            Asked::Pending
        })
    }

    /// Ends `follower`'s follow of `followee` (uncounting it and enqueueing `event`) and withdraws
    /// its pending request, atomically. Removing nothing is not an error.
    pub async fn unfollow(
        &self,
        follower: u64,
        followee: u64,
        event: Event<'_>,
        now_ms: i64,
    ) -> Result<Removed, GraphError> {
        let mut tx = self.database.pool().begin().await?;
        let request = delete_request(&mut tx, follower, followee).await?;
        let deleted =
            sqlx::query("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2")
                .bind(follower as i64)
                .bind(followee as i64)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if deleted == 1 {
            count_edge(&mut tx, follower, followee, -1, now_ms).await?;
            photoshare_events::enqueue(&mut tx, event.id, event.message).await?;
        }
        tx.commit().await?;
        Ok(Removed {
            edge: deleted == 1,
            request,
        })
    }

    /// Turns `requester`'s pending request to follow `owner` into a follow (counted, `event`
    /// enqueued), atomically. False (nothing changes) if there is no such request.
    pub async fn approve(
        &self,
        edge_id: u64,
        owner: u64,
        requester: u64,
        event: Event<'_>,
        now_ms: i64,
    ) -> Result<bool, GraphError> {
        let mut tx = self.database.pool().begin().await?;
        if !delete_request(&mut tx, requester, owner).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        // Already following (a public follow raced the request): the request just goes.
        insert_edge(&mut tx, edge_id, requester, owner, event, now_ms).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes `requester`'s pending request to follow `owner`. False if there was none.
    pub async fn deny(&self, owner: u64, requester: u64) -> Result<bool, GraphError> {
        let deleted =
            sqlx::query("DELETE FROM follow_requests WHERE requester_id = $1 AND owner_id = $2")
                .bind(requester as i64)
                .bind(owner as i64)
                .execute(self.database.pool())
                .await?
                .rows_affected();
        Ok(deleted == 1)
    }

    /// `user`'s followers whose edges have ids below `before`, newest first, as (edge id, user id).
    pub async fn followers(
        &self,
        user: u64,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<(u64, u64)>, GraphError> {
        self.page(
            "SELECT id, follower_id AS other FROM follows WHERE followee_id = $1 AND id < $2 \
             ORDER BY id DESC LIMIT $3",
            user,
            before,
            limit,
        )
        .await
    }

    /// Whom `user` follows, edges with ids below `before`, newest first, as (edge id, user id).
    pub async fn following(
        &self,
        user: u64,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<(u64, u64)>, GraphError> {
        self.page(
            "SELECT id, followee_id AS other FROM follows WHERE follower_id = $1 AND id < $2 \
             ORDER BY id DESC LIMIT $3",
            user,
            before,
            limit,
        )
        .await
    }

    /// Who asks to follow `user`, requests with ids below `before`, newest first, as
    /// (request id, user id).
    pub async fn requests(
        &self,
        user: u64,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<(u64, u64)>, GraphError> {
        self.page(
            "SELECT id, requester_id AS other FROM follow_requests WHERE owner_id = $1 AND id < $2 \
             ORDER BY id DESC LIMIT $3",
            user,
            before,
            limit,
        )
        .await
    }

    async fn page(
        &self,
        sql: &str,
        user: u64,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<(u64, u64)>, GraphError> {
        let rows = sqlx::query(sql)
            .bind(user as i64)
            .bind(before.unwrap_or(u64::MAX).min(i64::MAX as u64) as i64)
            .bind(i64::from(limit))
            .fetch_all(self.database.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get::<i64, _>("id")? as u64,
                    row.try_get::<i64, _>("other")? as u64,
                ))
            })
            .collect()
    }

    /// How `viewer` stands towards each of `users`, and their counts: two queries, whatever the
    /// number of users.
    pub async fn relations(&self, viewer: u64, users: &[u64]) -> Result<Relations, GraphError> {
        let mut relations = Relations::default();
        if users.is_empty() {
            return Ok(relations);
        }
        let slots = placeholders(2, users.len());
        let sql = format!(
            "SELECT 'following' AS kind, followee_id AS other FROM follows \
             WHERE follower_id = $1 AND followee_id IN ({slots}) \
             UNION ALL \
             SELECT 'followed_by' AS kind, follower_id AS other FROM follows \
             WHERE followee_id = $1 AND follower_id IN ({slots}) \
             UNION ALL \
             SELECT 'requested' AS kind, owner_id AS other FROM follow_requests \
             WHERE requester_id = $1 AND owner_id IN ({slots})"
        );
        let mut query = sqlx::query(&sql).bind(viewer as i64);
        for user in users {
            query = query.bind(*user as i64);
        }
        for row in query.fetch_all(self.database.pool()).await? {
            let other = row.try_get::<i64, _>("other")? as u64;
            let kind: String = row.try_get("kind")?;
            match kind.as_str() {
                "following" => relations.following.insert(other),
                "followed_by" => relations.followed_by.insert(other),
                _ => relations.requested.insert(other),
            };
        }

        let sql = format!(
            "SELECT user_id, followers_count, following_count FROM follow_counts \
             WHERE user_id IN ({})",
            placeholders(1, users.len())
        );
        let mut query = sqlx::query(&sql);
        for user in users {
            query = query.bind(*user as i64);
        }
        for row in query.fetch_all(self.database.pool()).await? {
            relations.counts.insert(
                row.try_get::<i64, _>("user_id")? as u64,
                Counts {
                    followers: row.try_get::<i64, _>("followers_count")?.max(0) as u64,
                    following: row.try_get::<i64, _>("following_count")?.max(0) as u64,
                },
            );
        }
        Ok(relations)
    }

    /// Everyone `user` follows, or only those with more than `more_followers_than` followers.
    /// One pass over the `(follower_id, …)` index; the count filter joins the counts by key.
    pub async fn following_ids(
        &self,
        user: u64,
        more_followers_than: u64,
    ) -> Result<Vec<u64>, GraphError> {
        let query = if more_followers_than == 0 {
            sqlx::query_scalar("SELECT followee_id FROM follows WHERE follower_id = $1")
                .bind(user as i64)
        } else {
            sqlx::query_scalar(
                "SELECT f.followee_id FROM follows f \
                 JOIN follow_counts c ON c.user_id = f.followee_id \
                 WHERE f.follower_id = $1 AND c.followers_count > $2",
            )
            .bind(user as i64)
            .bind(more_followers_than.min(i64::MAX as u64) as i64)
        };
        let ids: Vec<i64> = query.fetch_all(self.database.pool()).await?;
        Ok(ids.into_iter().map(|id| id as u64).collect())
    }

    /// Up to `limit` followers of `user` with ids above `after`, by ascending id: one keyset
    /// step through the `(followee_id, follower_id)` index, as fast at the end as at the start.
    pub async fn followers_after(
        &self,
        user: u64,
        after: u64,
        limit: u32,
    ) -> Result<Vec<u64>, GraphError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT follower_id FROM follows WHERE followee_id = $1 AND follower_id > $2 \
             ORDER BY follower_id LIMIT $3",
        )
        .bind(user as i64)
        .bind(after.min(i64::MAX as u64) as i64)
        .bind(i64::from(limit))
        .fetch_all(self.database.pool())
        .await?;
        Ok(ids.into_iter().map(|id| id as u64).collect())
    }

    /// Inserts many follow edges at once (backfills, imports, tests), in transactions of
    /// [`IMPORT_CHUNK`] edges: existing pairs are skipped, the inserted ones are counted in the
    /// same transaction. No events are written (an import is not news). Returns how many edges
    /// were inserted.
    pub async fn import_follows(
        &self,
        follows: &[ImportedFollow],
        now_ms: i64,
    ) -> Result<u64, GraphError> {
        let mut inserted = 0;
        for chunk in follows.chunks(IMPORT_CHUNK) {
            let chunk: Vec<&ImportedFollow> = chunk
                .iter()
                .filter(|follow| follow.follower_id != follow.followee_id)
                .collect();
            if chunk.is_empty() {
                continue;
            }
            let values = (0..chunk.len())
                .map(|n| {
                    format!(
                        "(${}, ${}, ${}, ${})",
                        4 * n + 1,
                        4 * n + 2,
                        4 * n + 3,
                        4 * n + 4
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO follows (id, follower_id, followee_id, created_at_ms) VALUES {values} \
                 ON CONFLICT (follower_id, followee_id) DO NOTHING RETURNING follower_id, followee_id"
            );
            let mut query = sqlx::query(&sql);
            for follow in &chunk {
                query = query
                    .bind(follow.id as i64)
                    .bind(follow.follower_id as i64)
                    .bind(follow.followee_id as i64)
                    .bind(now_ms);
            }
            let mut tx = self.database.pool().begin().await?;
            let rows = query.fetch_all(&mut *tx).await?;
            let mut deltas: BTreeMap<u64, (i64, i64)> = BTreeMap::new();
            for row in &rows {
                let follower = row.try_get::<i64, _>("follower_id")? as u64;
                let followee = row.try_get::<i64, _>("followee_id")? as u64;
                deltas.entry(followee).or_default().0 += 1;
                deltas.entry(follower).or_default().1 += 1;
            }
            let deltas: Vec<(u64, i64, i64)> = deltas
                .into_iter()
                .map(|(user, (followers, following))| (user, followers, following))
                .collect();
            upsert_counts(&mut tx, &deltas, now_ms).await?;
            tx.commit().await?;
            inserted += rows.len() as u64;
        }
        Ok(inserted)
    }
}

/// Removes the pending request of `requester` to follow `owner`; true if there was one.
async fn delete_request(
    tx: &mut Transaction<'_, Any>,
    requester: u64,
    owner: u64,
) -> Result<bool, GraphError> {
    let deleted =
        sqlx::query("DELETE FROM follow_requests WHERE requester_id = $1 AND owner_id = $2")
            .bind(requester as i64)
            .bind(owner as i64)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    Ok(deleted == 1)
}

/// Inserts the edge unless the pair has one; a new edge is counted and `event` enqueued.
async fn insert_edge(
    tx: &mut Transaction<'_, Any>,
    edge_id: u64,
    follower: u64,
    followee: u64,
    event: Event<'_>,
    now_ms: i64,
) -> Result<bool, GraphError> {
    let inserted = sqlx::query(
        "INSERT INTO follows (id, follower_id, followee_id, created_at_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (follower_id, followee_id) DO NOTHING",
    )
    .bind(edge_id as i64)
    .bind(follower as i64)
    .bind(followee as i64)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    count_edge(tx, follower, followee, 1, now_ms).await?;
    photoshare_events::enqueue(tx, event.id, event.message).await?;
    Ok(true)
}

/// Adds `sign` (1 or -1) to `followee`'s followers count and `follower`'s following count.
async fn count_edge(
    tx: &mut Transaction<'_, Any>,
    follower: u64,
    followee: u64,
    sign: i64,
    now_ms: i64,
) -> Result<(), GraphError> {
    let mut deltas = [(followee, sign, 0), (follower, 0, sign)];
    deltas.sort_by_key(|(user, _, _)| *user);
    upsert_counts(tx, &deltas, now_ms).await
}

/// Adds (followers, following) deltas to each user's counts in one statement, creating missing
/// rows. `deltas` must be sorted by user id: PostgreSQL then locks the rows in the same order in
/// every transaction, so two of them cannot deadlock.
async fn upsert_counts(
    tx: &mut Transaction<'_, Any>,
    deltas: &[(u64, i64, i64)],
    now_ms: i64,
) -> Result<(), GraphError> {
    if deltas.is_empty() {
        return Ok(());
    }
    debug_assert!(deltas.windows(2).all(|w| w[0].0 < w[1].0));
    let values = (0..deltas.len())
        .map(|n| format!("(${}, ${}, ${}, $1)", 3 * n + 2, 3 * n + 3, 3 * n + 4))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO follow_counts (user_id, followers_count, following_count, updated_at_ms) \
         VALUES {values} ON CONFLICT (user_id) DO UPDATE SET \
         followers_count = follow_counts.followers_count + excluded.followers_count, \
         following_count = follow_counts.following_count + excluded.following_count, \
         updated_at_ms = excluded.updated_at_ms"
    );
    let mut query = sqlx::query(&sql).bind(now_ms);
    for (user, followers, following) in deltas {
        query = query.bind(*user as i64).bind(*followers).bind(*following);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// `$first, $first+1, ...` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_from_the_given_start() {
        assert_eq!(super::placeholders(3, 2), "$3, $4");
        assert_eq!(super::placeholders(1, 0), "");
    }
}
