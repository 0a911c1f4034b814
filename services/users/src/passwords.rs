//! Argon2id password hashes, computed by a bounded pool. Each hash takes 19 MiB and tens of
//! milliseconds of one core, so the number computed at once is fixed (the memory stays bounded
//! whatever the load), a bounded number of callers may wait for a slot, and the next caller is
//! refused at once with [`UsersError::Busy`] (503 `unavailable` with `Retry-After`) rather than
//! queued without bound. Hashing runs on the blocking pool and never stalls the async workers.

use std::sync::{Arc, LazyLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::UsersError;

/// The pool every hash and verification of the service goes through.
#[derive(Clone)]
pub struct HashingPool {
    /// One permit per hash that may run at once.
    running: Arc<Semaphore>,
    /// One permit per hash that may run or wait: running + queue. A caller that finds none
    /// left is refused instead of waiting.
    admitted: Arc<Semaphore>,
}

impl HashingPool {
    /// At most `concurrency` hashes at once (at least one), and `queue` more waiting.
    pub fn new(concurrency: usize, queue: usize) -> HashingPool {
        let concurrency = concurrency.max(1);
        HashingPool {
            running: Arc::new(Semaphore::new(concurrency)),
            admitted: Arc::new(Semaphore::new(concurrency.saturating_add(queue))),
        }
    }

    /// Hashes with the crate's Argon2id defaults (OWASP's m=19 MiB, t=2, p=1).
    pub async fn hash(&self, password: String) -> Result<String, UsersError> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|error| UsersError::Hashing(error.to_string()))
        })
        .await?
    }

    /// Checks `password` against `stored`. With no stored hash (an unknown login) it verifies
    /// against a dummy hash anyway, through the same pool, so the answer takes as long and
    /// reveals nothing.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, UsersError> {
        self.run(move || {
            let known = stored.is_some();
            let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
            let parsed = PasswordHash::new(&stored)
                .map_err(|error| UsersError::Hashing(error.to_string()))?;
            let matches = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(known && matches)
        })
        .await?
    }

    /// Runs `work` once a slot is free, or refuses at once when the queue is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, UsersError> {
        let admitted = self.admit()?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| UsersError::Hashing("the hashing pool is closed".into()))?;
        // The permits move into the blocking task: if the caller goes away (its deadline
        // passed), the hash still runs to its end and its slot stays taken until then, so the
        // bound holds for the memory actually in use, not only for the callers still waiting.
        tokio::task::spawn_blocking(move || {
            let _slots = (admitted, running);
            work()
        })
        .await
        .map_err(|error| UsersError::Hashing(error.to_string()))
    }

    /// A place among the running and waiting hashes, if there is one left.
    fn admit(&self) -> Result<OwnedSemaphorePermit, UsersError> {
        self.admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| UsersError::Busy)
    }
}

static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"not anyone's password", &salt)
        .expect("hashing a constant works")
        .to_string()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let pool = HashingPool::new(2, 2);
        let stored = pool.hash("correct horse".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(pool
            .verify("correct horse".into(), Some(stored.clone()))
            .await
            .unwrap());
        assert!(!pool
            .verify("wrong horse".into(), Some(stored))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn an_unknown_login_never_verifies() {
        let pool = HashingPool::new(1, 0);
        assert!(!pool
            .verify("not anyone's password".into(), None)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_frees_with_the_work() {
        let pool = HashingPool::new(1, 1);
        let running = pool.admit().unwrap();
        let waiting = pool.admit().unwrap();
        assert!(matches!(pool.admit(), Err(UsersError::Busy)));
        assert!(matches!(
            pool.hash("x".repeat(8)).await,
            Err(UsersError::Busy)
        ));
        drop(waiting);
        let third = pool.admit().expect("a freed place is given out again");
        drop((running, third));
        // With every place free again, work runs.
        assert!(pool.hash("x".repeat(8)).await.is_ok());
    }

    #[tokio::test]
    async fn no_more_than_the_concurrency_runs_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let pool = HashingPool::new(2, 16);
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks = (0..12).map(|_| {
            let (pool, now, peak) = (pool.clone(), now.clone(), peak.clone());
            async move {
                pool.run(move || {
                    let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(running, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    now.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }
        });
        for outcome in futures::future::join_all(tasks).await {
            outcome.unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 2, "{peak:?}");
    }
}
