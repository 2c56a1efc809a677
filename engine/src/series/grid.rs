//! The period grid of a run: the calendar range of the series, cut into periods.

use super::period::period_end;
use super::{PeriodKind, period_id, period_start};

/// The period grid of a run: every series has one value per period of it.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    /// Period cut.
    pub kind: PeriodKind,
    /// Id of the first period.
    pub first: i32,
    /// Periods.
    pub len: usize,
    /// Whether the data starts after the first period's first day.
    pub partial_first: bool,
    /// Whether the data ends before the last period's last day.
    pub partial_last: bool,
}

impl Grid {
    /// The grid covering days `lo..=hi`.
    pub fn new(kind: PeriodKind, (lo, hi): (i32, i32)) -> Grid {
        let first = period_id(kind, lo);
        let last = period_id(kind, hi);
        Grid {
            kind,
            first,
            len: (last - first + 1) as usize,
            partial_first: lo > period_start(kind, first),
            partial_last: hi < period_end(kind, last),
        }
    }

    /// Whether the data covers period `t` entirely.
    #[inline]
    pub fn complete(&self, t: usize) -> bool {
        !((t == 0 && self.partial_first) || (t + 1 == self.len && self.partial_last))
    }

    /// First day of period `t`.
    #[inline]
    pub fn start(&self, t: usize) -> i32 {
        period_start(self.kind, self.first + t as i32)
    }

    /// How explanations name a period (`week of`, `month of`).
    pub fn label(&self) -> &'static str {
        match self.kind {
            PeriodKind::Week => "week of",
            PeriodKind::Month => "month of",
        }
    }
}
