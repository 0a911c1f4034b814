//! The users service's SQL. Portable across SQLite and PostgreSQL (see photoshare-db). Every
//! transaction starts with a write, so SQLite takes its write lock up front and a concurrent
//! writer waits (busy_timeout) instead of failing on a lock upgrade.

use photoshare_db::{is_unique_violation, Database};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::error::UsersError;

/// A user as stored, minus the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: u64,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub bio: String,
    pub is_private: bool,
    pub created_at_ms: i64,
}

pub struct NewUser<'a> {
    pub id: u64,
    pub username: &'a str,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub now_ms: i64,
}

pub struct NewSession<'a> {
    pub session_id: u64,
    pub token_hash: &'a str,
    pub expires_at_ms: i64,
}

/// The Idempotency-Key of a sign-up, kept with the account it created.
pub struct NewSignupKey<'a> {
    /// See `migrations/users/0002_*.sql`.
    pub scope_hash: &'a str,
    /// The display name the sign-up asked for, if it asked.
    pub display_name: Option<&'a str>,
    pub expires_at_ms: i64,
}

/// An earlier sign-up found by its Idempotency-Key.
pub struct EarlierSignup {
    pub user: UserRecord,
    pub password_hash: String,
    pub display_name: Option<String>,
}

/// The id and times of a revocation about to be recorded; what it covers and why is said by
/// the call that records it.
#[derive(Debug, Clone, Copy)]
pub struct NewRevocation {
    pub id: u64,
    pub recorded_at_ms: i64,
    /// When the last access token it covers stops verifying anyway.
    pub expires_at_ms: i64,
}

/// Whose access tokens a revocation refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// Every token of one session.
    Session(u64),
    /// Every token of one account issued up to the revocation.
    User(u64),
}

/// A revocation as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRecord {
    pub id: u64,
    pub revoked: Revoked,
    /// `logout` or `refresh_token_reuse`.
    pub reason: String,
    pub recorded_at_ms: i64,
    pub expires_at_ms: i64,
}

#[derive(Debug, Default)]
pub struct ProfileChange {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub is_private: Option<bool>,
}

/// What became of a presented refresh token.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Exchanged: the session goes on with the new token.
    Rotated { user_id: u64, session_id: u64 },
    /// Already exchanged before: someone replays a stolen token, so the session is now revoked.
    ReuseDetected { session_id: u64 },
    /// Unknown, expired, or of a revoked session.
    Refused,
}

const USER_COLUMNS: &str = "id, username, email, display_name, bio, is_private, created_at_ms";

#[derive(Clone)]
pub struct Store {
    database: Database,
}

impl Store {
    pub fn new(database: Database) -> Store {
        Store { database }
    }

    /// Creates the user, its first session and, with one, the sign-up's Idempotency-Key, in one
    /// transaction.
    pub async fn create_user_with_session(
        &self,
        user: &NewUser<'_>,
        session: &NewSession<'_>,
        key: Option<&NewSignupKey<'_>>,
    ) -> Result<UserRecord, UsersError> {
        let mut tx = self.database.pool().begin().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO users (id, username, email, email_normalized, password_hash, display_name, bio, is_private, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, '', 0, $7, $7) RETURNING {USER_COLUMNS}"
        ))
        .bind(user.id as i64)
        .bind(user.username)
        .bind(user.email)
        .bind(user.email_normalized)
        .bind(user.password_hash)
        .bind(user.display_name)
        .bind(user.now_ms)
        .fetch_one(&mut *tx)
        .await;
        let record = match inserted {
            Ok(row) => user_from_row(&row)?,
            Err(error) if is_unique_violation(&error) => {
                drop(tx);
                return Err(self
                    .which_is_taken(user.username, user.email_normalized)
                    .await?);
            }
            Err(error) => return Err(error.into()),
        };
        insert_session(&mut tx, record.id, session, user.now_ms).await?;
        if let Some(key) = key {
            // A row of the same scope can only be an expired one (a live one would have made
            // the username taken above): it is replaced.
            sqlx::query(
                "INSERT INTO signup_keys (scope_hash, user_id, display_name, created_at_ms, expires_at_ms) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (scope_hash) DO UPDATE SET user_id = excluded.user_id, \
                 display_name = excluded.display_name, created_at_ms = excluded.created_at_ms, \
                 expires_at_ms = excluded.expires_at_ms WHERE signup_keys.expires_at_ms <= $4",
            )
            .bind(key.scope_hash)
            .bind(record.id as i64)
            .bind(key.display_name)
            .bind(user.now_ms)
            .bind(key.expires_at_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(record)
    }

    /// The sign-up that used this Idempotency-Key scope and has not expired, with the account's
    /// password hash for the retry to prove.
    pub async fn signup_by_key(
        &self,
        scope_hash: &str,
        now_ms: i64,
    ) -> Result<Option<EarlierSignup>, UsersError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash, asked_display_name FROM users JOIN \
             (SELECT user_id, display_name AS asked_display_name FROM signup_keys \
              WHERE scope_hash = $1 AND expires_at_ms > $2) AS asked ON asked.user_id = users.id"
        ))
        .bind(scope_hash)
        .bind(now_ms)
        .fetch_optional(self.database.pool())
        .await?;
        row.map(|row| {
            Ok(EarlierSignup {
                user: user_from_row(&row)?,
                password_hash: row.try_get("password_hash")?,
                display_name: row.try_get("asked_display_name")?,
            })
        })
        .transpose()
    }

    async fn which_is_taken(
        &self,
        username: &str,
        email_normalized: &str,
    ) -> Result<UsersError, UsersError> {
        let username_taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(self.database.pool())
                .await?;
        if username_taken.is_some() {
            return Ok(UsersError::UsernameTaken);
        }
        let email_taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM users WHERE email_normalized = $1")
                .bind(email_normalized)
                .fetch_optional(self.database.pool())
                .await?;
        Ok(if email_taken.is_some() {
            UsersError::EmailTaken
        } else {
            // The conflicting row vanished in between; to the caller it is still a conflict.
            UsersError::UsernameTaken
        })
    }

    /// The user and password hash for a username or an email (both already normalised).
    pub async fn credentials(
        &self,
        login: &str,
    ) -> Result<Option<(UserRecord, String)>, UsersError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1 OR email_normalized = $1"
        ))
        .bind(login)
        .fetch_optional(self.database.pool())
        .await?;
        row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }

    pub async fn open_session(
        &self,
        user_id: u64,
        session: &NewSession<'_>,
        now_ms: i64,
    ) -> Result<(), UsersError> {
        let mut tx = self.database.pool().begin().await?;
        insert_session(&mut tx, user_id, session, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Exchanges the token with digest `presented` for `next`, detecting re-use; a re-use
    /// revokes the session and records `revocation` for it.
    pub async fn rotate_refresh_token(
        &self,
        presented: &str,
        next_hash: &str,
        next_expires_at_ms: i64,
        revocation: &NewRevocation,
    ) -> Result<Rotation, UsersError> {
        let now_ms = revocation.recorded_at_ms;
        let mut tx = self.database.pool().begin().await?;
        // The write comes first: only one of two racing refreshes can mark the token.
        let claimed = sqlx::query(
            "UPDATE refresh_tokens SET rotated_at_ms = $2 \
             WHERE token_hash = $1 AND rotated_at_ms IS NULL AND expires_at_ms > $2 \
             AND session_id IN (SELECT id FROM sessions WHERE revoked_at_ms IS NULL)",
        )
        .bind(presented)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();

        let row = sqlx::query(
            "SELECT t.session_id, t.rotated_at_ms, s.user_id, s.revoked_at_ms \
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1",
        )
        .bind(presented)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Rotation::Refused);
        };
        let session_id = row.try_get::<i64, _>("session_id")? as u64;
        let user_id = row.try_get::<i64, _>("user_id")? as u64;

        if claimed == 1 {
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, session_id, issued_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(next_hash)
            .bind(session_id as i64)
            .bind(now_ms)
            .bind(next_expires_at_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Rotation::Rotated {
                user_id,
                session_id,
            });
        }

        let already_rotated = row.try_get::<Option<i64>, _>("rotated_at_ms")?.is_some();
        let session_live = row.try_get::<Option<i64>, _>("revoked_at_ms")?.is_none();
        if already_rotated && session_live {
            revoke_session(&mut tx, session_id, "refresh_token_reuse", now_ms).await?;
            insert_revocation(
                &mut tx,
                Revoked::Session(session_id),
                "refresh_token_reuse",
                revocation,
            )
            .await?;
            tx.commit().await?;
            return Ok(Rotation::ReuseDetected { session_id });
        }
        Ok(Rotation::Refused)
    }

    /// Revokes the session of `token_hash` if it belongs to `user_id`, and records `revocation`
    /// for it in the same transaction. Unknown tokens and revoked sessions are ignored.
    pub async fn revoke_session_of_token(
        &self,
        user_id: u64,
        token_hash: &str,
        revocation: &NewRevocation,
    ) -> Result<bool, UsersError> {
        let mut tx = self.database.pool().begin().await?;
        let revoked: Option<i64> = sqlx::query_scalar(
            "UPDATE sessions SET revoked_at_ms = $3, revoked_reason = 'logout' \
             WHERE revoked_at_ms IS NULL AND user_id = $2 \
             AND id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1) RETURNING id",
        )
        .bind(token_hash)
        .bind(user_id as i64)
        .bind(revocation.recorded_at_ms)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(session_id) = revoked else {
            tx.rollback().await?;
            return Ok(false);
        };
        insert_revocation(
            &mut tx,
            Revoked::Session(session_id as u64),
            "logout",
            revocation,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Revocations still in force (`expires_at_ms` after `now_ms`) that come after
    /// (`after_ms`, `after_id`) in (recorded_at_ms, id) order, at most `limit` of them.
    pub async fn revocations_since(
        &self,
        after_ms: i64,
        after_id: u64,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<RevocationRecord>, UsersError> {
        let rows = sqlx::query(
            "SELECT id, subject_kind, subject_id, reason, recorded_at_ms, expires_at_ms \
             FROM revocations \
             WHERE (recorded_at_ms > $1 OR (recorded_at_ms = $1 AND id > $2)) AND expires_at_ms > $3 \
             ORDER BY recorded_at_ms, id LIMIT $4",
        )
        .bind(after_ms)
        .bind(after_id.min(i64::MAX as u64) as i64)
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(self.database.pool())
        .await?;
        rows.iter().map(revocation_from_row).collect()
    }

    /// Forgets what no longer matters: revocations whose tokens have all expired, and the
    /// Idempotency-Keys of sign-ups past their day. Returns the rows removed.
    pub async fn purge_expired(&self, now_ms: i64) -> Result<u64, UsersError> {
        let revocations = sqlx::query("DELETE FROM revocations WHERE expires_at_ms <= $1")
            .bind(now_ms)
            .execute(self.database.pool())
            .await?
            .rows_affected();
        let keys = sqlx::query("DELETE FROM signup_keys WHERE expires_at_ms <= $1")
            .bind(now_ms)
            .execute(self.database.pool())
            .await?
            .rows_affected();
        Ok(revocations + keys)
    }

    pub async fn user_by_id(&self, id: u64) -> Result<Option<UserRecord>, UsersError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id as i64)
            .fetch_optional(self.database.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, UsersError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(self.database.pool())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Users with any of these ids or usernames, in one query.
    pub async fn users_batch(
        &self,
        ids: &[u64],
        usernames: &[String],
    ) -> Result<Vec<UserRecord>, UsersError> {
        if ids.is_empty() && usernames.is_empty() {
            return Ok(Vec::new());
        }
        let id_slots = placeholders(1, ids.len());
        let name_slots = placeholders(1 + ids.len(), usernames.len());
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id IN ({}) OR username IN ({})",
            if ids.is_empty() {
                "NULL".to_owned()
            } else {
                id_slots
            },
            if usernames.is_empty() {
                "NULL".to_owned()
            } else {
                name_slots
            },
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id as i64);
        }
        for username in usernames {
            query = query.bind(username.as_str());
        }
        let rows = query.fetch_all(self.database.pool()).await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn update_profile(
        &self,
        id: u64,
        change: &ProfileChange,
        now_ms: i64,
    ) -> Result<Option<UserRecord>, UsersError> {
        let row = sqlx::query(&format!(
            "UPDATE users SET display_name = COALESCE($2, display_name), bio = COALESCE($3, bio), \
             is_private = COALESCE($4, is_private), updated_at_ms = $5 WHERE id = $1 RETURNING {USER_COLUMNS}"
        ))
        .bind(id as i64)
        .bind(change.display_name.as_deref())
        .bind(change.bio.as_deref())
        .bind(change.is_private.map(i64::from))
        .bind(now_ms)
        .fetch_optional(self.database.pool())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }
}

async fn insert_session(
    tx: &mut Transaction<'_, Any>,
    user_id: u64,
    session: &NewSession<'_>,
    now_ms: i64,
) -> Result<(), UsersError> {
    sqlx::query("INSERT INTO sessions (id, user_id, created_at_ms) VALUES ($1, $2, $3)")
        .bind(session.session_id as i64)
        .bind(user_id as i64)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4)",
    )
    .bind(session.token_hash)
    .bind(session.session_id as i64)
    .bind(now_ms)
    .bind(session.expires_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn revoke_session(
    tx: &mut Transaction<'_, Any>,
    session_id: u64,
    reason: &str,
    now_ms: i64,
) -> Result<(), UsersError> {
    sqlx::query(
        "UPDATE sessions SET revoked_at_ms = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at_ms IS NULL",
    )
    .bind(session_id as i64)
    .bind(now_ms)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records that `revoked`'s access tokens are refused from now on, for `reason`.
async fn insert_revocation(
    tx: &mut Transaction<'_, Any>,
    revoked: Revoked,
    reason: &str,
    revocation: &NewRevocation,
) -> Result<(), UsersError> {
    let (kind, subject) = match revoked {
        Revoked::Session(id) => ("session", id),
        Revoked::User(id) => ("user", id),
    };
    sqlx::query(
        "INSERT INTO revocations (id, subject_kind, subject_id, reason, recorded_at_ms, expires_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(revocation.id as i64)
    .bind(kind)
    .bind(subject as i64)
    .bind(reason)
    .bind(revocation.recorded_at_ms)
    .bind(revocation.expires_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn revocation_from_row(row: &AnyRow) -> Result<RevocationRecord, UsersError> {
    let subject = row.try_get::<i64, _>("subject_id")? as u64;
    let revoked = match row.try_get::<String, _>("subject_kind")?.as_str() {
        "user" => Revoked::User(subject),
        _ => Revoked::Session(subject),
    };
    Ok(RevocationRecord {
        id: row.try_get::<i64, _>("id")? as u64,
        revoked,
        reason: row.try_get("reason")?,
        recorded_at_ms: row.try_get("recorded_at_ms")?,
        expires_at_ms: row.try_get("expires_at_ms")?,
    })
}

/// `$first, $first+1, ...` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn user_from_row(row: &AnyRow) -> Result<UserRecord, UsersError> {
    Ok(UserRecord {
        id: row.try_get::<i64, _>("id")? as u64,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        bio: row.try_get("bio")?,
        is_private: row.try_get::<i64, _>("is_private")? != 0,
        created_at_ms: row.try_get("created_at_ms")?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_from_the_given_start() {
        assert_eq!(super::placeholders(3, 2), "$3, $4");
        assert_eq!(super::placeholders(1, 0), "");
    }
}
