//! Periods as integers: consecutive periods have consecutive ids.

use serde::{Deserialize, Serialize};

use crate::kernels::dates::{civil_from_days, days_from_civil, iso_monday};

/// How a series is cut in time.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PeriodKind {
    /// ISO weeks, Monday to Sunday.
    #[default]
    Week,
    /// Calendar months.
    Month,
}

impl PeriodKind {
    /// Value of the findings' `period` column.
    pub fn name(self) -> &'static str {
        match self {
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
        }
    }

    /// Periods in a year (the seasonal lag).
    pub fn per_year(self) -> usize {
        match self {
            PeriodKind::Week => 52,
            PeriodKind::Month => 12,
        }
    }
}

/// 1970-01-05, the first Monday after the epoch, as days since 1970-01-01.
const FIRST_MONDAY: i32 = 4;

/// The id of the period containing `day` (days since 1970-01-01).
pub fn period_id(kind: PeriodKind, day: i32) -> i32 {
    match kind {
        PeriodKind::Week => (iso_monday(day) - FIRST_MONDAY).div_euclid(7),
        PeriodKind::Month => {
            let (y, m, _) = civil_from_days(day);
            y * 12 + m as i32 - 1
        }
    }
}

/// The first day of period `id` (a Monday for weeks, the 1st for months).
pub fn period_start(kind: PeriodKind, id: i32) -> i32 {
    match kind {
        PeriodKind::Week => id * 7 + FIRST_MONDAY,
        PeriodKind::Month => days_from_civil(id.div_euclid(12), (id.rem_euclid(12) + 1) as u32, 1),
    }
}

/// The last day of period `id`.
pub fn period_end(kind: PeriodKind, id: i32) -> i32 {
    period_start(kind, id + 1) - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dates::parse_ymd;

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let d = |s: &str| parse_ymd(s).unwrap_or(i32::MIN);
        // 2025-01-01 is a Wednesday: its ISO week starts on Monday 2024-12-30.
        let w = period_id(PeriodKind::Week, d("2025-01-01"));
        assert_eq!(period_start(PeriodKind::Week, w), d("2024-12-30"));
        assert_eq!(period_id(PeriodKind::Week, d("2025-01-05")), w);
        assert_eq!(period_id(PeriodKind::Week, d("2025-01-06")), w + 1);
        assert_eq!(period_end(PeriodKind::Week, w), d("2025-01-05"));
        // Before the epoch too.
        let old = period_id(PeriodKind::Week, d("1969-12-31"));
        assert_eq!(period_start(PeriodKind::Week, old), d("1969-12-29"));
        let m = period_id(PeriodKind::Month, d("2024-02-29"));
        assert_eq!(period_start(PeriodKind::Month, m), d("2024-02-01"));
        assert_eq!(period_end(PeriodKind::Month, m), d("2024-02-29"));
        assert_eq!(period_id(PeriodKind::Month, d("2024-03-01")), m + 1);
        assert_eq!(
            period_start(
                PeriodKind::Month,
                period_id(PeriodKind::Month, d("1969-07-20"))
            ),
            d("1969-07-01")
        );
    }
}
