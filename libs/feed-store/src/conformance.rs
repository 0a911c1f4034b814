//! The behaviour every [`FeedCache`] and every [`PostStore`] must show, as suites that each
//! implementation's tests run against the real backend. One suite per trait, so the embedded
//! stores and the production ones cannot drift apart.

use std::future::Future;
use std::time::Duration;

use crate::{FeedCache, FeedEntry, PostStore};

/// What a cache under test is built with.
#[derive(Debug, Clone, Copy)]
pub struct CacheSettings {
    /// Entries kept per reader.
    pub cap: usize,
    /// How long a cache lives after its last read.
    pub ttl: Duration,
}

/// A post id at `day` days and `ms` milliseconds after the id epoch: real ids, whose high bits
/// (beyond the 53 an `f64` holds exactly) differ only in the sequence part.
pub fn post_id(day: u64, ms: u64, sequence: u64) -> u64 {
    ((day * 86_400_000 + ms) << 23) | (sequence & 0x3ff)
}

fn ids(entries: &[FeedEntry]) -> Vec<u64> {
    entries.iter().map(|entry| entry.post_id).collect()
}

/// Runs every cache check; `make` must return a fresh cache that shares no data with earlier
/// ones.
pub async fn run_cache_suite<F, Fut>(make: F)
where
    F: Fn(CacheSettings) -> Fut,
    Fut: Future<Output = Box<dyn FeedCache>>,
{
    let long = Duration::from_secs(3600);
    missing_caches_are_never_created_by_writes(make(CacheSettings { cap: 5, ttl: long }).await)
        .await;
    a_rebuild_keeps_pushes_that_raced_it(make(CacheSettings { cap: 5, ttl: long }).await).await;
    pages_are_newest_first_below_the_cursor(make(CacheSettings { cap: 50, ttl: long }).await).await;
    the_cap_trims_the_oldest_and_sets_the_floor(make(CacheSettings { cap: 4, ttl: long }).await)
        .await;
    an_incomplete_rebuild_has_a_floor(make(CacheSettings { cap: 10, ttl: long }).await).await;
    removals_and_backfill(make(CacheSettings { cap: 10, ttl: long }).await).await;
    writes_are_idempotent(make(CacheSettings { cap: 10, ttl: long }).await).await;
    a_push_reaches_many_readers(make(CacheSettings { cap: 10, ttl: long }).await).await;
    reading_renews_the_expiry(
        make(CacheSettings {
            cap: 10,
            ttl: Duration::from_millis(1500),
        })
        .await,
    )
    .await;
}

async fn missing_caches_are_never_created_by_writes(cache: Box<dyn FeedCache>) {
    let entry = FeedEntry::new(post_id(1, 0, 0), 7);
    assert_eq!(cache.read(1, None, 10).await.unwrap(), None, "no cache yet");
    assert_eq!(cache.push(&[1, 2], entry).await.unwrap(), 0);
    assert!(!cache.insert(1, &[entry]).await.unwrap());
    cache.remove_post(&[1], entry).await.unwrap();
    cache.remove_author(1, 7).await.unwrap();
    assert_eq!(
        cache.read(1, None, 10).await.unwrap(),
        None,
        "writes to a reader without a cache must not create one"
    );

    cache.begin_rebuild(1).await.unwrap();
    assert_eq!(
        cache.read(1, None, 10).await.unwrap(),
        None,
        "a cache being built is not readable"
    );
    cache.finish_rebuild(1, &[], true).await.unwrap();
    let page = cache.read(1, None, 10).await.unwrap().expect("built");
    assert!(page.entries.is_empty());
    assert_eq!(page.window_floor, None, "an empty complete feed");

    cache.wipe(1).await.unwrap();
    assert_eq!(cache.read(1, None, 10).await.unwrap(), None, "wiped");
}

async fn a_rebuild_keeps_pushes_that_raced_it(cache: Box<dyn FeedCache>) {
    let old = FeedEntry::new(post_id(1, 0, 0), 7);
    let raced = FeedEntry::new(post_id(2, 0, 0), 8);
    cache.begin_rebuild(3).await.unwrap();
    assert_eq!(cache.push(&[3], raced).await.unwrap(), 1);
    cache.finish_rebuild(3, &[old], true).await.unwrap();
    let page = cache.read(3, None, 10).await.unwrap().expect("built");
    assert_eq!(page.entries, vec![raced, old]);
}

async fn pages_are_newest_first_below_the_cursor(cache: Box<dyn FeedCache>) {
    // Ids one sequence step apart: equal as f64, so order must not come from a float score.
    let entries: Vec<FeedEntry> = (0..12)
        .map(|i| FeedEntry::new(post_id(300, 5, i), 10 + i % 3))
        .collect();
    cache.begin_rebuild(4).await.unwrap();
    cache.finish_rebuild(4, &entries, true).await.unwrap();

    let mut expected = entries.clone();
    expected.reverse();
    let first = cache.read(4, None, 5).await.unwrap().unwrap();
    assert_eq!(first.entries, expected[..5].to_vec());
    let second = cache
        .read(4, Some(first.entries[4].post_id), 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.entries, expected[5..10].to_vec());
    let rest = cache
        .read(4, Some(second.entries[4].post_id), 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rest.entries, expected[10..].to_vec());
    assert_eq!(rest.window_floor, None);
    let below_all = cache
        .read(4, Some(entries[0].post_id), 5)
        .await
        .unwrap()
        .unwrap();
    assert!(below_all.entries.is_empty());
    let mid = cache
        .read(4, Some(entries[6].post_id + 1), 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ids(&mid.entries),
        ids(&expected[5..8]),
        "a cursor between ids"
    );
}

async fn the_cap_trims_the_oldest_and_sets_the_floor(cache: Box<dyn FeedCache>) {
    cache.begin_rebuild(5).await.unwrap();
    let first: Vec<FeedEntry> = (0..3)
        .map(|d| FeedEntry::new(post_id(d, 0, 0), 1))
        .collect();
    cache.finish_rebuild(5, &first, true).await.unwrap();
    assert_eq!(
        cache.read(5, None, 10).await.unwrap().unwrap().window_floor,
        None
    );
    for day in 3..7 {
        cache
            .push(&[5], FeedEntry::new(post_id(day, 0, 0), 2))
            .await
            .unwrap();
    }
    let page = cache.read(5, None, 10).await.unwrap().unwrap();
    let expected: Vec<u64> = (3..7).rev().map(|d| post_id(d, 0, 0)).collect();
    assert_eq!(ids(&page.entries), expected, "the newest cap entries stay");
    let floor = Some(post_id(2, 0, 0) + 1);
    assert_eq!(
        page.window_floor, floor,
        "just above the newest entry trimmed"
    );

    // A late post older than the window is not added.
    cache
        .push(&[5], FeedEntry::new(post_id(0, 5, 0), 3))
        .await
        .unwrap();
    let page = cache.read(5, None, 10).await.unwrap().unwrap();
    assert_eq!(ids(&page.entries), expected);
    assert_eq!(page.window_floor, floor);

    // Removing entries leaves the floor where it is, and a backfill older than the floor stays
    // out even though there is room: the cache knows nothing of what else lies down there.
    cache
        .remove_post(&[5], FeedEntry::new(post_id(3, 0, 0), 2))
        .await
        .unwrap();
    let backfill = [
        FeedEntry::new(post_id(1, 7, 0), 4),
        FeedEntry::new(post_id(5, 7, 0), 4),
    ];
    assert!(cache.insert(5, &backfill).await.unwrap());
    let page = cache.read(5, None, 10).await.unwrap().unwrap();
    let expected = vec![
        post_id(6, 0, 0),
        post_id(5, 7, 0),
        post_id(5, 0, 0),
        post_id(4, 0, 0),
    ];
    assert_eq!(ids(&page.entries), expected);
    assert_eq!(page.window_floor, floor);
}

async fn an_incomplete_rebuild_has_a_floor(cache: Box<dyn FeedCache>) {
    let entries: Vec<FeedEntry> = (5..8)
        .map(|d| FeedEntry::new(post_id(d, 0, 0), 1))
        .collect();
    cache.begin_rebuild(6).await.unwrap();
    // Pushed while the rebuild read the store: one inside the window, one below it.
    let inside = FeedEntry::new(post_id(6, 1, 0), 2);
    let below = FeedEntry::new(post_id(4, 0, 0), 2);
    assert_eq!(cache.push(&[6], inside).await.unwrap(), 1);
    assert_eq!(cache.push(&[6], below).await.unwrap(), 1);
    cache.finish_rebuild(6, &entries, false).await.unwrap();
    let page = cache.read(6, None, 10).await.unwrap().unwrap();
    assert_eq!(page.window_floor, Some(post_id(5, 0, 0)));
    let expected = vec![
        post_id(7, 0, 0),
        post_id(6, 1, 0),
        post_id(6, 0, 0),
        post_id(5, 0, 0),
    ];
    assert_eq!(
        ids(&page.entries),
        expected,
        "the raced push below the floor is gone"
    );
}

async fn removals_and_backfill(cache: Box<dyn FeedCache>) {
    let by_a: Vec<FeedEntry> = (0..3)
        .map(|d| FeedEntry::new(post_id(d, 1, 0), 100))
        .collect();
    let by_b: Vec<FeedEntry> = (0..3)
        .map(|d| FeedEntry::new(post_id(d, 2, 0), 200))
        .collect();
    cache.begin_rebuild(7).await.unwrap();
    cache.finish_rebuild(7, &by_a, true).await.unwrap();
    assert!(cache.insert(7, &by_b).await.unwrap(), "backfill lands");
    let page = cache.read(7, None, 10).await.unwrap().unwrap();
    assert_eq!(page.entries.len(), 6);
    assert_eq!(page.window_floor, None);

    cache.remove_author(7, 100).await.unwrap();
    let page = cache.read(7, None, 10).await.unwrap().unwrap();
    let mut expected = by_b.clone();
    expected.reverse();
    assert_eq!(
        page.entries, expected,
        "the unfollowed author's posts are gone"
    );

    cache.remove_post(&[7], by_b[1]).await.unwrap();
    let page = cache.read(7, None, 10).await.unwrap().unwrap();
    assert_eq!(page.entries, vec![by_b[2], by_b[0]]);
    assert_eq!(
        page.window_floor, None,
        "removals keep a complete cache complete"
    );
}

async fn writes_are_idempotent(cache: Box<dyn FeedCache>) {
    let entry = FeedEntry::new(post_id(9, 0, 0), 1);
    cache.begin_rebuild(8).await.unwrap();
    cache.finish_rebuild(8, &[entry], true).await.unwrap();
    cache.push(&[8], entry).await.unwrap();
    cache.insert(8, &[entry, entry]).await.unwrap();
    cache.begin_rebuild(8).await.unwrap();
    cache.finish_rebuild(8, &[entry], true).await.unwrap();
    let page = cache.read(8, None, 10).await.unwrap().unwrap();
    assert_eq!(page.entries, vec![entry]);
    cache.remove_post(&[8], entry).await.unwrap();
    cache.remove_post(&[8], entry).await.unwrap();
    assert!(cache
        .read(8, None, 10)
        .await
        .unwrap()
        .unwrap()
        .entries
        .is_empty());
}

async fn a_push_reaches_many_readers(cache: Box<dyn FeedCache>) {
    let readers: Vec<u64> = (1_000..3_000).collect();
    for reader in readers.iter().filter(|r| *r % 2 == 0) {
        cache.begin_rebuild(*reader).await.unwrap();
        cache.finish_rebuild(*reader, &[], true).await.unwrap();
    }
    let entry = FeedEntry::new(post_id(20, 0, 0), 42);
    assert_eq!(cache.push(&readers, entry).await.unwrap(), 1_000);
    for reader in [1_000, 1_998, 2_998] {
        assert_eq!(
            cache.read(reader, None, 5).await.unwrap().unwrap().entries,
            vec![entry]
        );
    }
    for reader in [1_001, 2_999] {
        assert_eq!(cache.read(reader, None, 5).await.unwrap(), None);
    }
    cache.remove_post(&readers, entry).await.unwrap();
    assert!(cache
        .read(2_000, None, 5)
        .await
        .unwrap()
        .unwrap()
        .entries
        .is_empty());
}

/// The ttl is 1.5 s: read at 1 s renews it, so at 2 s the cache lives; 1.7 s after that read
/// it is gone.
async fn reading_renews_the_expiry(cache: Box<dyn FeedCache>) {
    cache.begin_rebuild(9).await.unwrap();
    cache.finish_rebuild(9, &[], true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(cache.read(9, None, 1).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        cache.read(9, None, 1).await.unwrap().is_some(),
        "a read renews the expiry"
    );
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(
        cache.read(9, None, 1).await.unwrap(),
        None,
        "an inactive reader's cache expires"
    );
    // Pushes and backfills renew nothing: they do not make a reader active.
    cache.begin_rebuild(10).await.unwrap();
    cache.finish_rebuild(10, &[], true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    cache
        .push(&[10], FeedEntry::new(post_id(1, 0, 0), 1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(cache.read(10, None, 1).await.unwrap(), None);
}

/// Runs every post store check; `make` must return a fresh, empty store.
pub async fn run_post_store_suite<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Box<dyn PostStore>>,
{
    posts_page_newest_first(make().await).await;
    deletes_are_final(make().await).await;
    many_authors_merge(make().await).await;
    existence_and_unpushed_marks(make().await).await;
}

async fn posts_page_newest_first(store: Box<dyn PostStore>) {
    // Posts over more than a year, so that time-bucketed stores cross buckets.
    let posts: Vec<FeedEntry> = (0..40)
        .map(|i| FeedEntry::new(post_id(i * 13, i, i), 77))
        .collect();
    for post in posts.iter().rev() {
        assert!(store.record_post(*post).await.unwrap());
    }
    assert!(
        store.record_post(posts[3]).await.unwrap(),
        "recording twice is harmless"
    );
    store
        .record_post(FeedEntry::new(post_id(5, 0, 0), 78))
        .await
        .unwrap();

    let mut expected = posts.clone();
    expected.reverse();
    assert_eq!(
        store.posts_by_author(77, None, 100).await.unwrap(),
        expected
    );
    let first = store.posts_by_author(77, None, 15).await.unwrap();
    assert_eq!(first, expected[..15].to_vec());
    let next = store
        .posts_by_author(77, Some(first[14].post_id), 15)
        .await
        .unwrap();
    assert_eq!(next, expected[15..30].to_vec());
    let last = store
        .posts_by_author(77, Some(next[14].post_id), 15)
        .await
        .unwrap();
    assert_eq!(last, expected[30..].to_vec());
    assert!(store
        .posts_by_author(77, Some(posts[0].post_id), 15)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .posts_by_author(79, None, 15)
        .await
        .unwrap()
        .is_empty());
}

async fn deletes_are_final(store: Box<dyn PostStore>) {
    let kept = FeedEntry::new(post_id(400, 0, 0), 5);
    let deleted = FeedEntry::new(post_id(401, 0, 0), 5);
    let deleted_early = FeedEntry::new(post_id(402, 0, 0), 5);
    store.record_post(kept).await.unwrap();
    store.record_post(deleted).await.unwrap();
    store.delete_post(deleted).await.unwrap();
    store.delete_post(deleted).await.unwrap();
    // The delete event overtook the publish event.
    store.delete_post(deleted_early).await.unwrap();
    assert!(!store.record_post(deleted_early).await.unwrap());
    assert!(!store.record_post(deleted).await.unwrap());
    assert_eq!(
        store.posts_by_author(5, None, 10).await.unwrap(),
        vec![kept]
    );
}

async fn many_authors_merge(store: Box<dyn PostStore>) {
    let mut all = Vec::new();
    for author in 1..=6u64 {
        for i in 0..8u64 {
            let entry = FeedEntry::new(post_id(i * 40 + author, author, 0), author);
            store.record_post(entry).await.unwrap();
            all.push(entry);
        }
    }
    let followed = [2u64, 3, 5];
    let mut expected: Vec<FeedEntry> = all
        .iter()
        .copied()
        .filter(|entry| followed.contains(&entry.author_id))
        .collect();
    expected.sort_by_key(|entry| std::cmp::Reverse(entry.post_id));

    let first = store.posts_by_authors(&followed, None, 10).await.unwrap();
    assert_eq!(first, expected[..10].to_vec());
    let rest = store
        .posts_by_authors(&followed, Some(first[9].post_id), 100)
        .await
        .unwrap();
    assert_eq!(rest, expected[10..].to_vec());
    assert!(store
        .posts_by_authors(&[], None, 10)
        .await
        .unwrap()
        .is_empty());
    let many: Vec<u64> = (1..=600).collect();
    assert_eq!(
        store
            .posts_by_authors(&many, None, 1000)
            .await
            .unwrap()
            .len(),
        48,
        "hundreds of authors at once"
    );
}

async fn existence_and_unpushed_marks(store: Box<dyn PostStore>) {
    let a = FeedEntry::new(post_id(50, 0, 0), 1);
    let b = FeedEntry::new(post_id(51, 0, 0), 1);
    let never = FeedEntry::new(post_id(52, 0, 0), 2);
    store.record_post(a).await.unwrap();
    store.record_post(b).await.unwrap();
    store.delete_post(b).await.unwrap();
    let existing = store.existing(&[a, b, never]).await.unwrap();
    assert!(existing.contains(&a.post_id));
    assert!(!existing.contains(&b.post_id));
    assert!(!existing.contains(&never.post_id));
    assert!(store.existing(&[]).await.unwrap().is_empty());

    assert!(!store.has_unpushed(1).await.unwrap());
    store.set_unpushed(1, true).await.unwrap();
    store.set_unpushed(1, true).await.unwrap();
    assert!(store.has_unpushed(1).await.unwrap());
    assert!(!store.has_unpushed(2).await.unwrap());
    store.set_unpushed(1, false).await.unwrap();
    assert!(!store.has_unpushed(1).await.unwrap());
}
