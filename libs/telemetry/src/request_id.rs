//! The request id of the request being served, kept in a task-local so that code deep in a
//! handler (the gRPC client interceptor) can forward it without threading it through every call.

use std::future::Future;

/// The header (HTTP) and metadata key (gRPC) that carries the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `future` with `id` as the current request id.
pub async fn scope<F: Future>(id: String, future: F) -> F::Output {
    REQUEST_ID.scope(id, future).await
}

/// The current request id, if the caller runs inside [`scope`].
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A fresh request id: 16 hex digits, unique enough to find one request in the logs.
pub fn generate() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", hasher.finish())
}

/// A request id the client sent is kept only if it is short and printable, so it cannot inject
/// anything into logs or headers.
pub fn accept_client_id(candidate: &str) -> bool {
    (1..=128).contains(&candidate.len())
        && candidate
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_id_is_visible_only_inside_its_scope() {
        assert_eq!(current(), None);
        let seen = scope("req-1".into(), async { current() }).await;
        assert_eq!(seen.as_deref(), Some("req-1"));
        assert_eq!(current(), None);
    }

    #[test]
    fn hostile_client_ids_are_not_accepted() {
        assert!(accept_client_id("3f2a-11.b_c"));
        assert!(!accept_client_id(""));
        assert!(!accept_client_id("a\nb"));
        assert!(!accept_client_id(&"x".repeat(129)));
    }
}
