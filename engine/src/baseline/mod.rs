//! Group baselines: exact order statistics of ln unit values per comparison group, with
//! a hierarchical fallback from the most specific level to the least.
//!
//! Build order: every line carries a fine group id ([`FineKey`]: full HS code, origin,
//! unit, basis). Per level, fine groups map to level groups; each fine group resolves to
//! the first level whose group has at least `min_group_size` values. Only resolved
//! level groups get statistics: their values are gathered by one counting-sort pass per
//! level and reduced with selection (O(n) per group), in parallel over groups.

mod build;
mod level;
mod stored;

pub use build::{GroupBaseline, MeasureBaseline, NO_GROUP, REFERENCE_LEVEL, build_baseline};
pub use level::{FineKey, GroupLevel};
pub use stored::{StoredGroup, StoredGroups};
