//! Time buckets: the month a post belongs to, and the order in which a read walks an author's
//! months. Pure arithmetic, so that every edge (month ends, year ends, leap days, cursors) is
//! tested without a node.

/// The month of a post, as `year * 100 + month` of its UTC creation time (`202503` is March
/// 2025): the second half of the `posts_by_author` partition key. Readable in cqlsh, and it
/// orders like time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bucket(i32);

const MS_PER_DAY: u64 = 86_400_000;

impl Bucket {
    /// The month in which the post (or any photoshare id) was made: the id's time bits are
    /// milliseconds since 2025-01-01 UTC.
    pub fn of_id(id: u64) -> Bucket {
        let unix_ms = photoshare_ids::decompose(id).unix_ms;
        let (year, month) = year_month(unix_ms / MS_PER_DAY);
        // Ids hold 41 bits of milliseconds: the year stays below 2100, far from i32's limits.
        Bucket(year as i32 * 100 + month as i32)
    }

    /// The newest bucket that can hold a post with `post_id < before`; `None` when no post
    /// can (`before` is 0). `None` as the cursor means "from the newest post".
    pub fn newest_below(before: Option<u64>) -> Option<Option<Bucket>> {
        match before {
            None => Some(None),
            Some(0) => None,
            Some(id) => Some(Some(Bucket::of_id(id - 1))),
        }
    }

    /// The value stored in the `bucket int` column.
    pub fn to_cql(self) -> i32 {
        self.0
    }

    /// A bucket read back from the `bucket int` column.
    pub fn from_cql(value: i32) -> Bucket {
        Bucket(value)
    }
}

/// The civil (proleptic Gregorian) year and month of a day counted from 1970-01-01: Howard
/// Hinnant's `civil_from_days`, for days on or after the Unix epoch.
fn year_month(days_since_unix_epoch: u64) -> (u64, u64) {
    // Shift the epoch to 0000-03-01, so that a leap day is the last day of its "year".
    let days = days_since_unix_epoch + 719_468;
    let era = days / 146_097;
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month)
}

/// The buckets a read of "posts with `post_id < before`, newest first" visits, in the order it
/// visits them: the author's known buckets (from `author_buckets`, in any order) that can hold
/// such posts, newest first, each once. The read stops early once it has its rows, so only the
/// newest few are usually read.
pub fn plan_walk(known: impl IntoIterator<Item = Bucket>, before: Option<u64>) -> Vec<Bucket> {
    let Some(newest) = Bucket::newest_below(before) else {
        return Vec::new();
    };
    let mut plan: Vec<Bucket> = known
        .into_iter()
        .filter(|bucket| newest.is_none_or(|newest| *bucket <= newest))
        .collect();
    plan.sort_unstable_by(|a, b| b.cmp(a));
    plan.dedup();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An id made at `day` days and `ms` milliseconds after 2025-01-01 UTC, with every worker
    /// and sequence bit set: the largest id of that millisecond.
    fn id(day: u64, ms: u64) -> u64 {
        ((day * MS_PER_DAY + ms) << 23) | 0x7f_ffff
    }

    /// The smallest id of that millisecond.
    fn first_id(day: u64, ms: u64) -> u64 {
        (day * MS_PER_DAY + ms) << 23
    }

    const LAST_MS: u64 = MS_PER_DAY - 1;

    #[test]
    fn the_epoch_is_january_2025() {
        assert_eq!(Bucket::of_id(0).to_cql(), 202501);
        assert_eq!(Bucket::of_id(id(0, 0)).to_cql(), 202501);
    }

    #[test]
    fn months_end_on_their_last_millisecond() {
        // 2025-01-31T23:59:59.999Z, then 2025-02-01T00:00:00.000Z.
        assert_eq!(Bucket::of_id(id(30, LAST_MS)).to_cql(), 202501);
        assert_eq!(Bucket::of_id(first_id(31, 0)).to_cql(), 202502);
        // February 2025 has 28 days: day 58 is 2025-02-28, day 59 is 2025-03-01.
        assert_eq!(Bucket::of_id(id(58, LAST_MS)).to_cql(), 202502);
        assert_eq!(Bucket::of_id(first_id(59, 0)).to_cql(), 202503);
    }

    #[test]
    fn years_end_on_december_31() {
        // Day 364 is 2025-12-31, day 365 is 2026-01-01.
        assert_eq!(Bucket::of_id(id(364, LAST_MS)).to_cql(), 202512);
        assert_eq!(Bucket::of_id(first_id(365, 0)).to_cql(), 202601);
        // 2026 and 2027 have 365 days: day 1095 is 2028-01-01.
        assert_eq!(Bucket::of_id(id(1094, LAST_MS)).to_cql(), 202712);
        assert_eq!(Bucket::of_id(first_id(1095, 0)).to_cql(), 202801);
    }

    #[test]
    fn leap_days_belong_to_february() {
        // 2028 is a leap year: day 1154 is 2028-02-29, day 1155 is 2028-03-01.
        assert_eq!(Bucket::of_id(id(1154, 0)).to_cql(), 202802);
        assert_eq!(Bucket::of_id(id(1154, LAST_MS)).to_cql(), 202802);
        assert_eq!(Bucket::of_id(first_id(1155, 0)).to_cql(), 202803);
        // 2100 would not be a leap year, but ids end before it (see below).
    }

    #[test]
    fn the_largest_id_is_in_september_2094() {
        // 2^41 - 1 ms after the epoch is 2094-09-07T15:47:35.551Z.
        assert_eq!(Bucket::of_id(u64::MAX).to_cql(), 209409);
    }

    #[test]
    fn the_calendar_matches_known_dates() {
        // Days since 1970-01-01 of a few dates, checked against a calendar.
        assert_eq!(year_month(0), (1970, 1));
        assert_eq!(year_month(11_016), (2000, 2)); // 2000-02-29, a 400-year leap day
        assert_eq!(year_month(11_017), (2000, 3));
        assert_eq!(year_month(20_089), (2025, 1)); // 2025-01-01
        assert_eq!(year_month(20_088), (2024, 12));
    }

    #[test]
    fn buckets_order_like_time() {
        let mut previous = Bucket::of_id(0);
        for day in 0..3_000 {
            let bucket = Bucket::of_id(id(day, 12_345));
            assert!(bucket >= previous, "day {day}");
            let month = bucket.to_cql() % 100;
            assert!((1..=12).contains(&month), "day {day}: {bucket:?}");
            previous = bucket;
        }
        assert_eq!(previous.to_cql(), 203303, "day 2999 is 2033-03-19");
    }

    #[test]
    fn a_cursor_bounds_the_newest_bucket() {
        assert_eq!(Bucket::newest_below(None), Some(None));
        assert_eq!(Bucket::newest_below(Some(0)), None, "nothing is below 0");
        // A cursor at the first id of February: the posts below it are January's.
        assert_eq!(
            Bucket::newest_below(Some(first_id(31, 0))),
            Some(Some(Bucket(202501)))
        );
        assert_eq!(
            Bucket::newest_below(Some(first_id(31, 0) + 1)),
            Some(Some(Bucket(202502)))
        );
    }

    fn buckets(values: &[i32]) -> Vec<Bucket> {
        values.iter().copied().map(Bucket::from_cql).collect()
    }

    #[test]
    fn a_walk_visits_known_buckets_newest_first() {
        let known = buckets(&[202501, 202612, 202503, 202601, 202503]);
        assert_eq!(
            plan_walk(known.clone(), None),
            buckets(&[202612, 202601, 202503, 202501]),
            "sorted newest first, each once"
        );
        assert!(
            plan_walk(Vec::new(), None).is_empty(),
            "an author without posts"
        );
        assert!(plan_walk(known, Some(0)).is_empty());
    }

    #[test]
    fn a_walk_starts_at_the_cursors_bucket() {
        let known = buckets(&[202501, 202503, 202512, 202601]);
        // A cursor in March 2025 (day 70): March's posts below it, then January's.
        assert_eq!(
            plan_walk(known.clone(), Some(id(70, 0))),
            buckets(&[202503, 202501])
        );
        // A cursor in a month the author was silent in (2025-06, day 160) skips to the next
        // older month they posted in.
        assert_eq!(
            plan_walk(known.clone(), Some(id(160, 0))),
            buckets(&[202503, 202501])
        );
        // A cursor exactly at the first id of 2026: December 2025 is the newest to read.
        assert_eq!(
            plan_walk(known.clone(), Some(first_id(365, 0))),
            buckets(&[202512, 202503, 202501])
        );
        // A cursor newer than every post reads them all.
        assert_eq!(plan_walk(known.clone(), Some(u64::MAX)).len(), 4);
        // A cursor older than every post reads nothing: no bucket is probed.
        assert!(plan_walk(buckets(&[202503, 202601]), Some(id(10, 0))).is_empty());
        assert_eq!(plan_walk(known, Some(1)), buckets(&[202501]));
    }
}
