//! Argon2id password hashes, computed by a bounded pool. Each hash takes 19 MiB and tens of
//! milliseconds of one core, so a fixed number of threads of its own compute them (the memory
//! stays bounded whatever the load), a bounded queue holds the callers waiting for one, and the
//! next caller is refused at once with [`UsersError::Busy`] (503 `unavailable` with
//! `Retry-After`) rather than queued without bound. A caller that waited [`MAX_QUEUE_WAIT`] is
//! refused the same way, before the gateway's deadline would turn it into a bare 503.
//!
//! Each hashing thread owns its Argon2 memory and reuses it hash after hash, so the resident
//! memory of hashing is `concurrency` × 19 MiB, whatever the allocator does. (Letting the
//! argon2 crate allocate and free 19 MiB per hash left freed blocks resident in glibc's arenas:
//! a login flood held 700 MiB with only four hashes at a time.)

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::error::UsersError;

/// The longest a caller waits for a hashing thread. One frees every few tens of milliseconds
/// under normal load; waiting this long means the machine is overloaded, and the caller is
/// better told to come back than kept past the gateway's deadline (5 s by default).
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(2);

/// Work for a hashing thread, and where its answer goes.
struct Job {
    work: Box<dyn FnOnce(&mut Memory) + Send>,
    /// Not started by then, the job is refused as busy.
    start_by: Instant,
    /// Told `Busy` when the job is refused.
    refuse: Box<dyn FnOnce() + Send>,
}

/// The pool every hash and verification of the service goes through. Dropping it (with the
/// service) lets its threads finish the queue and end.
#[derive(Clone)]
pub struct HashingPool {
    jobs: SyncSender<Job>,
    queue_wait: Duration,
}

impl HashingPool {
    /// `concurrency` hashing threads (at least one), and `queue` callers that may wait.
    pub fn new(concurrency: usize, queue: usize) -> HashingPool {
        HashingPool::with_queue_wait(concurrency, queue, MAX_QUEUE_WAIT)
    }

    fn with_queue_wait(concurrency: usize, queue: usize, queue_wait: Duration) -> HashingPool {
        let (jobs, waiting) = mpsc::sync_channel::<Job>(queue);
        let waiting = Arc::new(Mutex::new(waiting));
        for index in 0..concurrency.max(1) {
            let waiting = waiting.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || work_through(&waiting));
            if let Err(error) = spawned {
                // Fewer threads only means fewer hashes at once; none at all is noticed below.
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        HashingPool { jobs, queue_wait }
    }

    /// Hashes with the crate's Argon2id defaults (OWASP's m=19 MiB, t=2, p=1), as a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, UsersError> {
        self.run(move |memory| memory.hash(password.as_bytes()))
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
        self.run(move |memory| {
            let known = stored.is_some();
            let stored = match stored {
                Some(stored) => stored,
                None => memory.dummy_hash()?,
            };
            Ok(known && memory.verify(password.as_bytes(), &stored)?)
        })
        .await?
    }

    /// Runs `work` on a hashing thread, or refuses at once when the queue is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, UsersError> {
        self.submit(work)?
            .await
            .map_err(|_| UsersError::Hashing("a password hashing thread ended".into()))?
    }

    /// Queues `work` for a hashing thread; its answer will come on the returned channel.
    fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<oneshot::Receiver<Result<T, UsersError>>, UsersError> {
        let (answer, answered) = oneshot::channel::<Result<T, UsersError>>();
        let answer = Arc::new(Mutex::new(Some(answer)));
        let reply = move |outcome| {
            let sender = answer.lock().ok().and_then(|mut slot| slot.take());
            if let Some(sender) = sender {
                // The caller may have gone (its deadline passed); nobody to tell then.
                let _ = sender.send(outcome);
            }
        };
        let refuse = reply.clone();
        let job = Job {
            work: Box::new(move |memory| reply(Ok(work(memory)))),
            start_by: Instant::now() + self.queue_wait,
            refuse: Box::new(move || refuse(Err(UsersError::Busy))),
        };
        match self.jobs.try_send(job) {
            Ok(()) => Ok(answered),
            Err(TrySendError::Full(_)) => Err(UsersError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(UsersError::Hashing(
                "no password hashing thread runs".into(),
            )),
        }
    }
}

/// A hashing thread: takes jobs until the pool is dropped; refuses those that waited too long.
fn work_through(waiting: &Mutex<Receiver<Job>>) {
    let mut memory = Memory::default();
    loop {
        // The lock is held only while waiting for the next job, never while hashing.
        let next = match waiting.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else {
            return;
        };
        if Instant::now() > job.start_by {
            (job.refuse)();
        } else {
            (job.work)(&mut memory);
        }
    }
}

/// The hash unknown logins are verified against: of no one's password, with the parameters of
/// every new hash, so that verifying it costs what verifying a real one does.
static DUMMY_HASH: OnceLock<String> = OnceLock::new();

/// A hashing thread's Argon2 memory, allocated on its first hash and kept.
#[derive(Default)]
pub struct Memory {
    blocks: Vec<Block>,
}

impl Memory {
    fn hash(&mut self, password: &[u8]) -> Result<String, UsersError> {
        let salt = SaltString::generate(&mut OsRng);
        let argon2 = Argon2::default();
        let output = self.compute(&argon2, password, salt.as_salt())?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::default().into()),
            params: ParamsString::try_from(argon2.params()).map_err(hashing)?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(hash.to_string())
    }

    /// Does `password` hash to `stored` (a PHC string), with `stored`'s own parameters?
    fn verify(&mut self, password: &[u8], stored: &str) -> Result<bool, UsersError> {
        let parsed = PasswordHash::new(stored).map_err(hashing)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(UsersError::Hashing(
                "a stored hash without salt or output".into(),
            ));
        };
        let version = match parsed.version {
            Some(version) => Version::try_from(version).map_err(hashing)?,
            None => Version::default(),
        };
        let argon2 = Argon2::new(
            Algorithm::try_from(parsed.algorithm).map_err(hashing)?,
            version,
            Params::try_from(&parsed).map_err(hashing)?,
        );
        // `Output`'s equality takes the same time wherever the first difference is.
        Ok(self.compute(&argon2, password, salt)? == expected)
    }

    fn dummy_hash(&mut self) -> Result<String, UsersError> {
        if let Some(dummy) = DUMMY_HASH.get() {
            return Ok(dummy.clone());
        }
        let dummy = self.hash(b"not anyone's password")?;
        Ok(DUMMY_HASH.get_or_init(|| dummy).clone())
    }

    /// `argon2`'s output for `password` and `salt`, computed in this memory.
    fn compute(
        &mut self,
        argon2: &Argon2<'_>,
        password: &[u8],
        salt: Salt<'_>,
    ) -> Result<Output, UsersError> {
        let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
        let salt = salt.decode_b64(&mut salt_bytes).map_err(hashing)?;
        self.blocks
            .resize(argon2.params().block_count(), Block::default());
        let length = argon2
            .params()
            .output_len()
            .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        Output::init_with(length, |out| {
            argon2
                .hash_password_into_with_memory(password, salt, out, &mut self.blocks)
                .map_err(|_| argon2::password_hash::Error::Crypto)
        })
        .map_err(hashing)
    }
}

fn hashing(error: impl std::fmt::Display) -> UsersError {
    UsersError::Hashing(error.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

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

    /// Hashes made before this pool (by the argon2 crate's own `hash_password`) still verify,
    /// and ours verify with the crate's own verifier: the stored format did not change.
    #[tokio::test]
    async fn hashes_are_the_argon2_crates_phc_strings() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let pool = HashingPool::new(1, 1);
        let salt = SaltString::generate(&mut OsRng);
        let earlier = Argon2::default()
            .hash_password(b"from before", &salt)
            .unwrap()
            .to_string();
        assert!(pool
            .verify("from before".into(), Some(earlier.clone()))
            .await
            .unwrap());
        assert!(!pool
            .verify("from after".into(), Some(earlier))
            .await
            .unwrap());
        let ours = pool.hash("ours".into()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"ours", &parsed).is_ok());
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
    }

    #[tokio::test]
    async fn an_unknown_login_never_verifies() {
        let pool = HashingPool::new(1, 1);
        assert!(!pool
            .verify("not anyone's password".into(), None)
            .await
            .unwrap());
    }

    /// Occupies the pool's only thread until the returned sender is dropped.
    async fn occupy(pool: &HashingPool) -> (mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, released) = mpsc::channel::<()>();
        let (started, has_started) = oneshot::channel();
        let task = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move |_| {
                    let _ = started.send(());
                    let _ = released.recv();
                })
                .await
                .unwrap();
            }
        });
        has_started.await.unwrap();
        (release, task)
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let pool = HashingPool::new(1, 1);
        let (release, running) = occupy(&pool).await;
        let waiting = pool.submit(|_| 7).expect("the one place in the queue");
        assert!(matches!(pool.submit(|_| 8), Err(UsersError::Busy)));
        assert!(matches!(
            pool.hash("x".repeat(8)).await,
            Err(UsersError::Busy)
        ));
        drop(release);
        running.await.unwrap();
        assert_eq!(
            waiting.await.unwrap().unwrap(),
            7,
            "the waiting job still runs"
        );
        assert!(pool.hash("x".repeat(8)).await.is_ok());
    }

    #[tokio::test]
    async fn a_caller_that_waited_too_long_is_refused() {
        let pool = HashingPool::with_queue_wait(1, 4, Duration::from_millis(20));
        let (release, running) = occupy(&pool).await;
        let late = pool.submit(|_| ()).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(release);
        running.await.unwrap();
        assert!(matches!(late.await.unwrap(), Err(UsersError::Busy)));
        assert!(pool.run(|_| ()).await.is_ok());
    }

    #[tokio::test]
    async fn no_more_than_the_concurrency_runs_at_once() {
        let pool = HashingPool::new(2, 16);
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks = (0..12).map(|_| {
            let (pool, now, peak) = (pool.clone(), now.clone(), peak.clone());
            async move {
                pool.run(move |_| {
                    let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(running, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
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
