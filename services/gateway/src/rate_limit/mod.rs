//! Rate limits, answered with 429 `rate_limited` and `Retry-After`:
//!
//! - sign-up and login per client address, and login per account (the login name as the users
//!   service normalises it), so that neither one address nor many addresses get more than a
//!   handful of password guesses a minute at one account;
//! - writes (POST, PUT, PATCH, DELETE with an access token) per account, generously, against
//!   scripted abuse.
//!
//! With Redis configured (`PHOTOSHARE_REDIS_URL`) every gateway replica draws on the same
//! budgets ([`shared`], one atomic GCRA script per check); without it, or while Redis cannot be
//! reached, each replica counts on its own, in memory (governor, the same GCRA).

mod shared;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, RateLimiter};
use photoshare_config::{Config, GatewayConfig};
use photoshare_ids::UserId;
use photoshare_proto::ErrorCode;

use crate::problem::ApiError;
use shared::SharedLimiter;

/// The longest login name kept as a key: no account has a longer one (an email is at most 254
/// bytes), and longer guesses share one budget rather than growing the tables.
const MAX_ACCOUNT_KEY_CHARS: usize = 256;

/// One kind of budget; each has its own quota and its own keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Budget {
    SignupPerAddress,
    LoginPerAddress,
    LoginPerAccount,
    WritesPerAccount,
}

impl Budget {
    const ALL: [Budget; 4] = [
        Budget::SignupPerAddress,
        Budget::LoginPerAddress,
        Budget::LoginPerAccount,
        Budget::WritesPerAccount,
    ];

    /// The middle of its keys, e.g. `login:account`.
    fn name(self) -> &'static str {
        match self {
            Budget::SignupPerAddress => "signup:address",
            Budget::LoginPerAddress => "login:address",
            Budget::LoginPerAccount => "login:account",
            Budget::WritesPerAccount => "writes:account",
        }
    }

    fn quota(self, gateway: &GatewayConfig) -> Quota {
        Quota::per_minute(match self {
            Budget::SignupPerAddress | Budget::LoginPerAddress => {
                gateway.auth_rate_limit_per_minute
            }
            Budget::LoginPerAccount => gateway.login_account_rate_limit_per_minute,
            Budget::WritesPerAccount => gateway.write_rate_limit_per_minute,
        })
    }

    fn refusal(self) -> &'static str {
        match self {
            Budget::SignupPerAddress | Budget::LoginPerAddress => {
                "too many attempts from this address, slow down"
            }
            Budget::LoginPerAccount => "too many login attempts for this account, slow down",
            Budget::WritesPerAccount => "too many changes in a short time, slow down",
        }
    }
}

/// So many requests a minute, in a burst or spread out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    per_minute: NonZeroU32,
}

impl Quota {
    pub fn per_minute(requests: u32) -> Quota {
        Quota {
            per_minute: NonZeroU32::new(requests.max(1)).unwrap_or(NonZeroU32::MIN),
        }
    }
}

pub struct RateLimits {
    /// The quota of each [`Budget`], in `Budget::ALL` order.
    quotas: [Quota; 4],
    /// This replica's own counts, in `Budget::ALL` order: all of them without Redis, and the
    /// fallback while Redis is unreachable.
    local: [DefaultKeyedRateLimiter<String>; 4],
    shared: Option<SharedLimiter>,
    trust_forwarded_for: bool,
}

impl RateLimits {
    /// The limits of `config.gateway`, shared through `backends.redis_url` when it is set.
    /// Redis keys start with the deployment's `feed.redis_key_prefix` (the one prefix of the
    /// deployment's keys), then `ratelimit:`.
    pub fn from_config(config: &Config) -> RateLimits {
        let quotas = Budget::ALL.map(|budget| budget.quota(&config.gateway));
        let shared = config.backends.redis_url.as_deref().map(|url| {
            SharedLimiter::new(url, format!("{}ratelimit:", config.feed.redis_key_prefix))
        });
        RateLimits {
            local: quotas
                .map(|quota| RateLimiter::keyed(governor::Quota::per_minute(quota.per_minute))),
            quotas,
            shared,
            trust_forwarded_for: config.gateway.trust_forwarded_for,
        }
    }

    /// The address limits are counted against: the peer, or the first `X-Forwarded-For` hop
    /// when the gateway sits behind a proxy that sets it.
    pub fn client_ip(&self, request: &HttpRequest) -> Option<IpAddr> {
        if self.trust_forwarded_for {
            let forwarded = request
                .headers()
                .get("x-forwarded-for")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(',').next())
                .and_then(|first| first.trim().parse().ok());
            if forwarded.is_some() {
                return forwarded;
            }
        }
        request.peer_addr().map(|addr| addr.ip())
    }

    /// A sign-up from the request's address.
    pub async fn check_signup(&self, request: &HttpRequest) -> Result<(), ApiError> {
        match self.client_ip(request) {
            Some(ip) => self.take(Budget::SignupPerAddress, &ip.to_string()).await,
            None => Ok(()),
        }
    }

    /// A login attempt from the request's address at the account `login` names.
    pub async fn check_login(&self, request: &HttpRequest, login: &str) -> Result<(), ApiError> {
        if let Some(ip) = self.client_ip(request) {
            self.take(Budget::LoginPerAddress, &ip.to_string()).await?;
        }
        self.take(Budget::LoginPerAccount, &account_key(login))
            .await
    }

    /// A write by `user`.
    pub async fn check_write(&self, user: UserId) -> Result<(), ApiError> {
        self.take(Budget::WritesPerAccount, &user.to_string()).await
    }

    /// Counts one request against `budget` for `key`, or refuses it.
    async fn take(&self, budget: Budget, key: &str) -> Result<(), ApiError> {
        let index = budget as usize;
        let wait = match &self.shared {
            Some(shared) => match shared.take(budget.name(), key, self.quotas[index]).await {
                Ok(wait) => wait,
                Err(error) => {
                    tracing::debug!(%error, "shared rate limits unavailable; counting locally");
                    self.take_locally(index, key)
                }
            },
            None => self.take_locally(index, key),
        };
        match wait {
            None => Ok(()),
            Some(wait) => Err(ApiError {
                retry_after: Some(whole_seconds(wait)),
                ..ApiError::new(ErrorCode::RateLimited, budget.refusal())
            }),
        }
    }

    fn take_locally(&self, index: usize, key: &str) -> Option<Duration> {
        self.local[index]
            .check_key(&key.to_owned())
            .err()
            .map(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets idle keys, so the in-memory tables do not grow with every address ever seen.
    pub fn forget_idle(&self) {
        for limiter in &self.local {
            limiter.retain_recent();
        }
    }
}

/// The account a login names, as the users service reads it: trimmed and lower-cased.
fn account_key(login: &str) -> String {
    login
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_ACCOUNT_KEY_CHARS)
        .collect()
}

/// `Retry-After` in whole seconds, rounded up, at least 1.
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_minute: u32) -> RateLimits {
        let mut config = Config::default();
        config.gateway.auth_rate_limit_per_minute = per_minute;
        config.gateway.login_account_rate_limit_per_minute = per_minute;
        config.gateway.write_rate_limit_per_minute = per_minute;
        RateLimits::from_config(&config)
    }

    #[tokio::test]
    async fn a_budget_refuses_with_retry_after_once_spent() {
        let limits = limits(2);
        for _ in 0..2 {
            limits.check_write(UserId(7)).await.unwrap();
        }
        let refused = limits.check_write(UserId(7)).await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        assert!(
            (1..=30).contains(&refused.retry_after.unwrap()),
            "{refused:?}"
        );
        // Another account has its own budget.
        limits.check_write(UserId(8)).await.unwrap();
    }

    #[tokio::test]
    async fn logins_count_against_the_account_whatever_its_spelling() {
        let limits = limits(2);
        let addresses = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
        let request = |ip: &str| {
            actix_web::test::TestRequest::default()
                .peer_addr(format!("{ip}:4000").parse().unwrap())
                .to_http_request()
        };
        limits
            .check_login(&request(addresses[0]), "Ann")
            .await
            .unwrap();
        limits
            .check_login(&request(addresses[1]), " ann ")
            .await
            .unwrap();
        let refused = limits
            .check_login(&request(addresses[2]), "ANN")
            .await
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        assert!(refused.detail.contains("account"), "{}", refused.detail);
        limits
            .check_login(&request(addresses[2]), "bob")
            .await
            .unwrap();
    }

    #[test]
    fn account_keys_are_normalised_and_bounded() {
        assert_eq!(account_key("  Ann@Example.COM "), "ann@example.com");
        assert_eq!(
            account_key(&"x".repeat(10_000)).len(),
            MAX_ACCOUNT_KEY_CHARS
        );
    }

    #[test]
    fn retry_after_rounds_up_to_a_whole_second() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(6)), 6);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn every_budget_has_its_own_key_space() {
        let names: std::collections::HashSet<_> = Budget::ALL.iter().map(|b| b.name()).collect();
        assert_eq!(names.len(), Budget::ALL.len());
        for (index, budget) in Budget::ALL.into_iter().enumerate() {
            assert_eq!(budget as usize, index);
        }
    }
}
