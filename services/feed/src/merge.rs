//! Assembling one stretch of a feed from several sources that are each read newest first and
//! may have been cut short: only what lies above the highest cut is certainly complete.

use photoshare_feed_store::FeedEntry;

/// What one source returned for "below the cursor, at most n".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceRead {
    /// Newest first.
    pub entries: Vec<FeedEntry>,
    /// The source has nothing older than its last entry.
    pub exhausted: bool,
}

impl SourceRead {
    pub fn new(entries: Vec<FeedEntry>, asked: usize) -> SourceRead {
        let exhausted = entries.len() < asked;
        SourceRead { entries, exhausted }
    }
}

/// A stretch of the feed that no source can add to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stretch {
    /// Newest first, without duplicates.
    pub entries: Vec<FeedEntry>,
    /// Where the next stretch starts (reading strictly below it), or `None` at the end of
    /// every source.
    pub continue_below: Option<u64>,
}

/// Merges `reads` into the stretch down to the highest point where a source was cut short:
/// below it, that source may hold posts the others do not show, so those entries wait for the
/// next read.
pub fn combine(reads: Vec<SourceRead>) -> Stretch {
    let horizon = reads
        .iter()
        .filter(|read| !read.exhausted)
        .filter_map(|read| read.entries.last().map(|entry| entry.post_id))
        .max();
    let mut entries: Vec<FeedEntry> = reads
        .into_iter()
        .flat_map(|read| read.entries)
        .filter(|entry| horizon.is_none_or(|h| entry.post_id >= h))
        .collect();
    entries.sort_unstable_by_key(|entry| std::cmp::Reverse(entry.post_id));
    entries.dedup_by_key(|entry| entry.post_id);
    Stretch {
        entries,
        continue_below: horizon,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(ids: &[u64], exhausted: bool) -> SourceRead {
        SourceRead {
            entries: ids.iter().map(|id| FeedEntry::new(*id, id % 7)).collect(),
            exhausted,
        }
    }

    fn ids(stretch: &Stretch) -> Vec<u64> {
        stretch.entries.iter().map(|e| e.post_id).collect()
    }

    #[test]
    fn exhausted_sources_merge_whole() {
        let stretch = combine(vec![read(&[9, 5, 1], true), read(&[8, 5, 2], true)]);
        assert_eq!(ids(&stretch), vec![9, 8, 5, 2, 1]);
        assert_eq!(stretch.continue_below, None);
    }

    #[test]
    fn a_cut_source_holds_back_what_lies_below_its_last_entry() {
        // The first source stopped at 6: the second's 4 and 2 might have older neighbours from
        // the first source between them, so they wait.
        let stretch = combine(vec![read(&[9, 7, 6], false), read(&[8, 4, 2], true)]);
        assert_eq!(ids(&stretch), vec![9, 8, 7, 6]);
        assert_eq!(stretch.continue_below, Some(6));
    }

    #[test]
    fn the_highest_cut_wins() {
        let stretch = combine(vec![read(&[9, 3], false), read(&[8, 7], false)]);
        assert_eq!(ids(&stretch), vec![9, 8, 7]);
        assert_eq!(stretch.continue_below, Some(7));
    }

    #[test]
    fn an_empty_cut_source_is_no_cut() {
        let stretch = combine(vec![read(&[], false), read(&[3], true)]);
        assert_eq!(ids(&stretch), vec![3]);
        assert_eq!(stretch.continue_below, None);
    }
}
