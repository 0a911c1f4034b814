//! Access-token revocations as the gateways see them: when a recorded revocation can be
//! forgotten, how it travels (`RevocationsSince`), and the periodic purge of what expired.
//!
//! Access tokens are verified without a call to this service, so a revoked session's tokens
//! would keep working until they expire. Instead every revocation is recorded in the
//! transaction that revokes, and each gateway polls the new ones into a denylist (see the
//! gateway's `revocation` module).

use std::sync::atomic::{AtomicI64, Ordering};

use photoshare_auth::LEEWAY_SECS;
use photoshare_proto::users::v1 as pb;

use crate::store::{NewRevocation, RevocationRecord, Revoked};

/// Most revocations one `RevocationsSince` answers.
pub const MAX_PAGE: u32 = 1_000;

/// How often expired revocations and sign-up keys are deleted.
const PURGE_EVERY_MS: i64 = 60_000;

/// When revocations recorded now can be forgotten.
#[derive(Debug, Clone, Copy)]
pub struct Lifetime {
    /// The access tokens' lifetime plus the leeway verifiers allow past `exp`.
    covers_ms: i64,
}

impl Lifetime {
    pub fn for_access_tokens(access_token_ttl_secs: u32) -> Lifetime {
        Lifetime {
            covers_ms: (i64::from(access_token_ttl_secs) + LEEWAY_SECS as i64) * 1000,
        }
    }

    /// A revocation with id `id` recorded at `now_ms`: the tokens it covers were issued at or
    /// before now, so none of them verifies after now + their lifetime + leeway.
    pub fn stamp(&self, id: u64, now_ms: i64) -> NewRevocation {
        NewRevocation {
            id,
            recorded_at_ms: now_ms,
            expires_at_ms: now_ms.saturating_add(self.covers_ms),
        }
    }
}

/// Runs the purge at most once a minute, from whichever call comes by: gateways poll every
/// second, so it runs about once a minute without a task of its own.
#[derive(Debug, Default)]
pub struct PurgeSchedule {
    last_ms: AtomicI64,
}

impl PurgeSchedule {
    /// True (once) when the purge is due at `now_ms`; the caller then runs it.
    pub fn due(&self, now_ms: i64) -> bool {
        let last = self.last_ms.load(Ordering::Relaxed);
        now_ms - last >= PURGE_EVERY_MS
            && self
                .last_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

pub fn to_proto(record: RevocationRecord) -> pb::Revocation {
    let subject = match record.revoked {
        Revoked::Session(id) => pb::revocation::Subject::SessionId(id),
        Revoked::User(id) => pb::revocation::Subject::UserId(id),
    };
    let reason = match record.reason.as_str() {
        "logout" => pb::RevocationReason::Logout,
        "refresh_token_reuse" => pb::RevocationReason::RefreshTokenReuse,
        _ => pb::RevocationReason::Unspecified,
    };
    pb::Revocation {
        id: record.id,
        subject: Some(subject),
        recorded_at_ms: record.recorded_at_ms,
        expires_at_ms: record.expires_at_ms,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_lasts_as_long_as_the_tokens_it_covers() {
        let stamp = Lifetime::for_access_tokens(900).stamp(7, 1_000_000);
        assert_eq!(stamp.id, 7);
        assert_eq!(stamp.recorded_at_ms, 1_000_000);
        assert_eq!(
            stamp.expires_at_ms,
            1_000_000 + (900 + LEEWAY_SECS as i64) * 1000
        );
    }

    #[test]
    fn the_purge_is_due_once_a_minute() {
        let schedule = PurgeSchedule::default();
        assert!(schedule.due(100_000));
        assert!(!schedule.due(100_001));
        assert!(!schedule.due(159_999));
        assert!(schedule.due(160_000));
        assert!(!schedule.due(160_000));
    }

    #[test]
    fn records_travel_with_their_subject_and_reason() {
        let revocation = to_proto(RevocationRecord {
            id: 3,
            revoked: Revoked::User(42),
            reason: "refresh_token_reuse".into(),
            recorded_at_ms: 10,
            expires_at_ms: 20,
        });
        assert_eq!(
            revocation.subject,
            Some(pb::revocation::Subject::UserId(42))
        );
        assert_eq!(revocation.reason(), pb::RevocationReason::RefreshTokenReuse);
        assert_eq!(
            (revocation.recorded_at_ms, revocation.expires_at_ms),
            (10, 20)
        );
    }
}
