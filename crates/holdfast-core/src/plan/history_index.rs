//! The history rows that count, indexed for planning: the newest row per version and per
//! repeatable migration, the baseline, and the newest applied version.

use crate::history::{HistoryRow, RowState};
use crate::migration::{Kind, Version};
use std::collections::HashMap;

/// The rows of a history that decide each migration's state.
pub(super) struct HistoryIndex<'h> {
    /// The newest row (highest id) of each version.
    pub(super) versioned: HashMap<Version, &'h HistoryRow>,
    /// The newest row of each repeatable migration, by description.
    pub(super) repeatable: HashMap<&'h str, &'h HistoryRow>,
    /// The last baseline row, with its version.
    pub(super) baseline: Option<(Version, &'h HistoryRow)>,
}

impl<'h> HistoryIndex<'h> {
    pub(super) fn new(history: &'h [HistoryRow]) -> HistoryIndex<'h> {
        let mut index = HistoryIndex {
            versioned: HashMap::new(),
            repeatable: HashMap::new(),
            baseline: None,
        };
        for row in history {
            match row.kind {
                Kind::Versioned => {
                    if let Some(v) = row.version.as_deref().and_then(Version::parse) {
                        let keep = index.versioned.get(&v).is_none_or(|old| old.id < row.id);
                        if keep {
                            index.versioned.insert(v, row);
                        }
                    }
                }
                Kind::Repeatable => {
                    let keep = index
                        .repeatable
                        .get(row.description.as_str())
                        .is_none_or(|old| old.id < row.id);
                    if keep {
                        index.repeatable.insert(row.description.as_str(), row);
                    }
                }
                Kind::Baseline => {
                    if let Some(v) = row.version.as_deref().and_then(Version::parse) {
                        index.baseline = Some((v, row));
                    }
                }
            }
        }
        index
    }

    /// The newest version that is applied, or the baseline's when that is newer.
    pub(super) fn newest_applied(&self) -> Option<Version> {
        self.versioned
            .iter()
            .filter(|(_, r)| r.state == RowState::Applied)
            .map(|(v, _)| v)
            .chain(self.baseline.as_ref().map(|(v, _)| v))
            .max()
            .cloned()
    }

    /// Whether `v` is at or below the baseline.
    pub(super) fn below_baseline(&self, v: &Version) -> bool {
        self.baseline.as_ref().is_some_and(|(b, _)| v <= b)
    }
}
