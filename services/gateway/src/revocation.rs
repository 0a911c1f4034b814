//! Revoked access tokens, refused within seconds on every gateway replica without a database
//! call per request.
//!
//! The users service records each revocation (a logged-out session, a session whose refresh
//! token was replayed; later whole accounts, for suspension and deletion) in the transaction
//! that revokes. Every gateway polls `Users/RevocationsSince` about once a second into this
//! in-memory [`Denylist`] and keeps each entry until the tokens it covers have expired; `authn`
//! refuses a token the list covers. A restarted gateway reads every revocation still in force
//! before it says it is ready, so it forgets nothing; a gateway that cannot refresh the list
//! for longer than `revocation_stale_after_ms` says it is not ready, so that a load balancer
//! stops sending it requests it might wrongly accept.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use actix_web::web;
use photoshare_ids::{unix_ms_now, SessionId, UserId};
use photoshare_proto::users::v1::{self as pb, revocation::Subject};
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// Revocations are re-read from this far behind the newest one seen. A revocation becomes
/// visible when its transaction commits, which may be after a later one did (or on a users
/// replica whose clock is a little behind); reading back this much makes such late arrivals
/// still land, and re-reading is harmless because entries are keyed.
const REREAD_MS: i64 = 30_000;

/// Revocations asked for per call (the service caps it too); a longer backlog takes several.
const PAGE: u32 = 1_000;

/// Why a token is refused. Every refusal answers 401 `unauthorized` today; a suspended
/// account's (a `user_id` revocation with its own reason) is to answer `account_suspended`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    SessionRevoked,
    AccountRevoked(pb::RevocationReason),
}

/// The access tokens currently revoked, by session and by account.
pub struct Denylist {
    entries: RwLock<Entries>,
    sync: Mutex<SyncState>,
    /// Older than this, the list is stale and the gateway not ready.
    stale_after: Duration,
}

#[derive(Default)]
struct Entries {
    /// Session id → when its last token expires (Unix ms).
    sessions: HashMap<u64, i64>,
    /// User id → tokens issued up to then are refused, until that expiry.
    users: HashMap<u64, AccountRevocation>,
}

#[derive(Debug, Clone, Copy)]
struct AccountRevocation {
    up_to_ms: i64,
    expires_at_ms: i64,
    /// Of the latest revocation of the account.
    reason: pb::RevocationReason,
}

#[derive(Default)]
struct SyncState {
    /// (recorded_at_ms, id) of the newest revocation seen.
    newest: (i64, u64),
    /// When the list last caught up with the users service.
    synced_at: Option<Instant>,
}

impl Denylist {
    pub fn new(stale_after: Duration) -> Denylist {
        Denylist {
            entries: RwLock::default(),
            sync: Mutex::default(),
            stale_after,
        }
    }

    /// What makes the gateway not ready, if anything: a list never read, or not for too long.
    pub fn readiness_problem(&self) -> Option<String> {
        match self.age() {
            None => Some("token revocations not read yet".to_owned()),
            Some(age) if age > self.stale_after => Some(format!(
                "token revocations not read for {} s",
                age.as_secs()
            )),
            Some(_) => None,
        }
    }

    /// Is a token of `session`, issued to `user` at `issued_at_secs` (its `iat`), revoked?
    pub fn refuses(
        &self,
        user: UserId,
        session: SessionId,
        issued_at_secs: u64,
    ) -> Option<Refusal> {
        let entries = self.entries.read().expect("lock poisoned");
        if entries.sessions.contains_key(&session.get()) {
            return Some(Refusal::SessionRevoked);
        }
        let issued_at_ms = i64::try_from(issued_at_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        entries
            .users
            .get(&user.get())
            .filter(|revoked| issued_at_ms <= revoked.up_to_ms)
            .map(|revoked| Refusal::AccountRevoked(revoked.reason))
    }

    /// How long ago the list last caught up, `None` if it never did.
    fn age(&self) -> Option<Duration> {
        self.sync
            .lock()
            .expect("lock poisoned")
            .synced_at
            .map(|at| at.elapsed())
    }

    /// Where the next poll starts: a little behind the newest revocation seen.
    fn poll_from(&self) -> (i64, u64) {
        let (newest_ms, _) = self.sync.lock().expect("lock poisoned").newest;
        if newest_ms == 0 {
            (0, 0)
        } else {
            (newest_ms - REREAD_MS, 0)
        }
    }

    /// Adds revocations (any order, repeats welcome) and forgets what expired by `now_ms`.
    fn absorb(&self, revocations: &[pb::Revocation], now_ms: i64) {
        let mut entries = self.entries.write().expect("lock poisoned");
        for revocation in revocations {
            match revocation.subject {
                Some(Subject::SessionId(session)) => {
                    let expiry = entries.sessions.entry(session).or_default();
                    *expiry = (*expiry).max(revocation.expires_at_ms);
                }
                Some(Subject::UserId(user)) => {
                    let entry = entries.users.entry(user).or_insert(AccountRevocation {
                        up_to_ms: revocation.recorded_at_ms,
                        expires_at_ms: revocation.expires_at_ms,
                        reason: revocation.reason(),
                    });
                    if revocation.recorded_at_ms >= entry.up_to_ms {
                        entry.up_to_ms = revocation.recorded_at_ms;
                        entry.reason = revocation.reason();
                    }
                    entry.expires_at_ms = entry.expires_at_ms.max(revocation.expires_at_ms);
                }
                None => {}
            }
        }
        entries
            .sessions
            .retain(|_, expires_at_ms| *expires_at_ms > now_ms);
        entries
            .users
            .retain(|_, revoked| revoked.expires_at_ms > now_ms);
        drop(entries);
        let mut sync = self.sync.lock().expect("lock poisoned");
        if let Some(last) = revocations.iter().map(|r| (r.recorded_at_ms, r.id)).max() {
            sync.newest = sync.newest.max(last);
        }
    }

    fn mark_synced(&self) {
        self.sync.lock().expect("lock poisoned").synced_at = Some(Instant::now());
    }

    /// One poll: every revocation from [`Denylist::poll_from`] on, page after page.
    pub async fn sync(&self, state: &AppState) -> Result<(), tonic::Status> {
        let (mut after_ms, mut after_id) = self.poll_from();
        loop {
            let page = state
                .users
                .clone()
                .revocations_since(pb::RevocationsSinceRequest {
                    after_recorded_at_ms: after_ms,
                    after_id,
                    limit: PAGE,
                })
                .await?
                .into_inner()
                .revocations;
            self.absorb(&page, unix_ms_now());
            match page.last() {
                Some(last) if page.len() >= PAGE as usize => {
                    (after_ms, after_id) = (last.recorded_at_ms, last.id);
                }
                _ => break,
            }
        }
        self.mark_synced();
        Ok(())
    }
}

/// Polls the users service every `revocation_poll_ms` until `shutdown`.
pub async fn keep_in_sync(
    state: web::Data<AppState>,
    every: Duration,
    shutdown: CancellationToken,
) -> Result<(), photoshare_runtime::RuntimeError> {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tick.tick() => {}
        }
        match state.revocations.sync(&state).await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("token revocations are read again");
            }
            Ok(()) => {}
            // Logged once per outage, not once a second; readiness tells the rest.
            Err(status) if !failing => {
                failing = true;
                tracing::warn!(message = status.message(), "cannot read token revocations");
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000_000;

    fn session(id: u64, session: u64, recorded_at_ms: i64) -> pb::Revocation {
        pb::Revocation {
            id,
            subject: Some(Subject::SessionId(session)),
            recorded_at_ms,
            expires_at_ms: recorded_at_ms + 930_000,
            reason: pb::RevocationReason::Logout.into(),
        }
    }

    fn account(id: u64, user: u64, recorded_at_ms: i64) -> pb::Revocation {
        pb::Revocation {
            subject: Some(Subject::UserId(user)),
            ..session(id, 0, recorded_at_ms)
        }
    }

    #[test]
    fn a_revoked_session_refuses_its_tokens_only() {
        let list = Denylist::new(Duration::from_secs(10));
        list.absorb(&[session(1, 77, NOW)], NOW);
        let iat = (NOW / 1000) as u64;
        assert_eq!(
            list.refuses(UserId(5), SessionId(77), iat),
            Some(Refusal::SessionRevoked)
        );
        assert_eq!(list.refuses(UserId(5), SessionId(78), iat), None);
    }

    #[test]
    fn a_revoked_account_refuses_tokens_issued_up_to_then() {
        let list = Denylist::new(Duration::from_secs(10));
        list.absorb(&[account(1, 5, NOW)], NOW);
        let before = (NOW / 1000 - 60) as u64;
        let after = (NOW / 1000 + 1) as u64;
        assert_eq!(
            list.refuses(UserId(5), SessionId(1), before),
            Some(Refusal::AccountRevoked(pb::RevocationReason::Logout))
        );
        assert_eq!(
            list.refuses(UserId(5), SessionId(1), after),
            None,
            "a later login"
        );
        assert_eq!(list.refuses(UserId(6), SessionId(1), before), None);
        // A second revocation of the account moves the bound forward.
        list.absorb(&[account(2, 5, NOW + 5_000)], NOW);
        assert_eq!(
            list.refuses(UserId(5), SessionId(1), after),
            Some(Refusal::AccountRevoked(pb::RevocationReason::Logout))
        );
    }

    #[test]
    fn entries_are_forgotten_once_their_tokens_expired() {
        let list = Denylist::new(Duration::from_secs(10));
        list.absorb(&[session(1, 77, NOW), account(2, 5, NOW)], NOW);
        list.absorb(&[], NOW + 930_001);
        let iat = (NOW / 1000) as u64;
        assert_eq!(list.refuses(UserId(5), SessionId(77), iat), None);
    }

    #[test]
    fn polls_start_a_little_behind_the_newest_revocation_seen() {
        let list = Denylist::new(Duration::from_secs(10));
        assert_eq!(list.poll_from(), (0, 0), "from the start when empty");
        list.absorb(&[session(9, 1, NOW), session(4, 2, NOW - 10)], NOW);
        assert_eq!(list.poll_from(), (NOW - REREAD_MS, 0));
        // Re-reading what is known changes nothing.
        list.absorb(&[session(4, 2, NOW - 10)], NOW);
        assert_eq!(list.poll_from(), (NOW - REREAD_MS, 0));
    }

    #[test]
    fn the_list_is_not_ready_until_read_and_again_once_stale() {
        let list = Denylist::new(Duration::from_millis(50));
        assert!(list.readiness_problem().is_some(), "never read");
        list.mark_synced();
        assert_eq!(list.readiness_problem(), None);
        std::thread::sleep(Duration::from_millis(60));
        assert!(list.readiness_problem().unwrap().contains("not read for"));
        list.mark_synced();
        assert_eq!(list.readiness_problem(), None);
    }
}
