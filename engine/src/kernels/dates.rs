//! Calendar arithmetic on days since 1970-01-01 (proleptic Gregorian, UTC).

pub use tradescan_datasets::calendar::{
    civil_from_days, days_from_civil, days_in_month, format_date as format_ymd, iso_monday,
};

/// Parse `YYYY-MM-DD` into days since 1970-01-01; `None` when malformed or not a real date.
pub fn parse_ymd(s: &str) -> Option<i32> {
    let mut parts = s.trim().splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_across_eras_and_leap_days() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(parse_ymd("1970-01-01"), Some(0));
        assert_eq!(
            parse_ymd("2024-02-29").map(format_ymd).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(parse_ymd("2025-02-29"), None);
        assert_eq!(parse_ymd("2025-13-01"), None);
        assert_eq!(parse_ymd("yesterday"), None);
    }
}
