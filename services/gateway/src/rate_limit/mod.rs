//! Per-client-IP rate limits on the calls that guess passwords or mint accounts. Over the limit,
//! the answer is 429 `rate_limited` with `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use photoshare_proto::ErrorCode;

use crate::problem::ApiError;

pub struct AuthRateLimits {
    pub signup: DefaultKeyedRateLimiter<IpAddr>,
    pub login: DefaultKeyedRateLimiter<IpAddr>,
    trust_forwarded_for: bool,
}

impl AuthRateLimits {
    pub fn new(per_minute: u32, trust_forwarded_for: bool) -> AuthRateLimits {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).expect("at least 1"));
        AuthRateLimits {
            signup: RateLimiter::keyed(quota),
            login: RateLimiter::keyed(quota),
            trust_forwarded_for,
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

    pub fn check(
        &self,
        limiter: &DefaultKeyedRateLimiter<IpAddr>,
        request: &HttpRequest,
    ) -> Result<(), ApiError> {
        let Some(ip) = self.client_ip(request) else {
            return Ok(());
        };
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError {
                retry_after: Some(seconds.max(1)),
                ..ApiError::new(
                    ErrorCode::RateLimited,
                    "too many attempts from this address, slow down",
                )
            }
        })
    }

    /// Forgets idle clients, so the tables do not grow with every address ever seen.
    pub fn forget_idle(&self) {
        self.signup.retain_recent();
        self.login.retain_recent();
    }
}
