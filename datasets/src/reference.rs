//! Reference lists compiled into the binary: HS watch families, the HS 2022
//! nomenclature and the HS 2022 codes that replaced deleted HS 2017 codes. Each
//! watch-family row keeps the source it was taken from; see
//! `datasets/reference/SOURCES.md`.
//!
//! Watch families are indicative and over-inclusive: a line whose HS code is in a
//! watched family is a reason for a closer look, never proof that the goods are
//! controlled.

use std::sync::OnceLock;

/// The watch-family list as shipped (CSV: `list,category,hs6,description,source`).
pub const WATCHLIST_CSV: &str = include_str!("../reference/hs_watchlists.csv");
/// Edition of the shipped watch-family list.
pub const WATCHLIST_EDITION: &str = "2026-11";
/// The HS 2022 nomenclature (CSV: `section,hscode,description,parent,level`).
pub const HS2022_CSV: &str = include_str!("../reference/hs2022_nomenclature.csv");
/// HS sections (CSV: `section,name`).
pub const HS_SECTIONS_CSV: &str = include_str!("../reference/hs_sections.csv");
/// HS 2022 level-6 codes new in HS 2022, each with a predecessor: an HS 2017 code of
/// the same heading deleted in 2022 (CSV: `hs2017,hs2022,description,source`; derived
/// from the two nomenclatures, see `datasets/reference/SOURCES.md`).
pub const HS2017_HS2022_CHANGES_CSV: &str = include_str!("../reference/hs2017_hs2022_changes.csv");

/// The watch families shipped with tradescan, in the order they are reported.
pub const FAMILIES: [&str; 5] = [
    "medical_supplies",
    "medicines_vaccines",
    "salw_ammunition",
    "ied_precursors",
    "dual_use",
];

/// One row of a watch-family list: an HS prefix (6 digits in the shipped list) in a family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEntry {
    /// Family name, e.g. `ied_precursors`.
    pub family: String,
    /// Sub-category inside the family, e.g. `precursor_chemical`.
    pub category: String,
    /// HS prefix (digits only).
    pub hs_prefix: String,
    /// Human description of the code.
    pub description: String,
    /// Where the row comes from.
    pub source: String,
}

/// One heading or subheading of the HS nomenclature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsEntry {
    /// Roman-numeral section, e.g. `VI`.
    pub section: String,
    /// 2, 4 or 6 digit code.
    pub code: String,
    /// Official description.
    pub description: String,
    /// Number of digits (2, 4 or 6).
    pub level: u8,
}

/// An HS 2022 level-6 code that does not exist in HS 2017, and the HS 2017 code its goods
/// were declared under before (an approximation of the WCO correlation tables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsChange {
    /// The HS 2017 code deleted in 2022 (6 digits).
    pub hs2017: String,
    /// The HS 2022 code (6 digits).
    pub hs2022: String,
    /// The HS 2022 code's description.
    pub description: String,
    /// How the pair was derived.
    pub source: String,
}

/// The shipped watch-family rows, parsed once.
pub fn watchlist() -> &'static [WatchEntry] {
    static CELL: OnceLock<Vec<WatchEntry>> = OnceLock::new();
    CELL.get_or_init(|| {
        parse_csv(WATCHLIST_CSV)
            .into_iter()
            .skip(1)
            .filter(|r| r.len() >= 5)
            .map(|r| WatchEntry {
                family: r[0].clone(),
                category: r[1].clone(),
                hs_prefix: r[2].clone(),
                description: r[3].clone(),
                source: r[4].clone(),
            })
            .collect()
    })
}

/// The HS 2022 nomenclature, parsed once.
pub fn hs2022() -> &'static [HsEntry] {
    static CELL: OnceLock<Vec<HsEntry>> = OnceLock::new();
    CELL.get_or_init(|| {
        parse_csv(HS2022_CSV)
            .into_iter()
            .skip(1)
            .filter(|r| r.len() >= 5)
            .filter_map(|r| {
                Some(HsEntry {
                    section: r[0].clone(),
                    code: r[1].clone(),
                    description: r[2].clone(),
                    level: r[4].parse().ok()?,
                })
            })
            .collect()
    })
}

/// The HS 2017 -> HS 2022 code changes, parsed once, sorted by HS 2022 code (one row
/// per HS 2022 code).
pub fn hs2017_hs2022_changes() -> &'static [HsChange] {
    static CELL: OnceLock<Vec<HsChange>> = OnceLock::new();
    CELL.get_or_init(|| {
        parse_csv(HS2017_HS2022_CHANGES_CSV)
            .into_iter()
            .skip(1)
            .filter(|r| r.len() >= 4)
            .map(|r| HsChange {
                hs2017: r[0].clone(),
                hs2022: r[1].clone(),
                description: r[2].clone(),
                source: r[3].clone(),
            })
            .collect()
    })
}

/// Parse RFC 4180 CSV text (quoted fields, doubled quotes, CRLF or LF) into rows of fields.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => in_quotes = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchlist_has_every_family_with_sources() {
        let rows = watchlist();
        assert_eq!(rows.len(), 389);
        for family in FAMILIES {
            assert!(rows.iter().any(|r| r.family == family), "{family} missing");
        }
        assert!(rows.iter().all(|r| !r.source.is_empty()));
        assert!(
            rows.iter()
                .all(|r| r.hs_prefix.bytes().all(|b| b.is_ascii_digit()))
        );
    }

    #[test]
    fn nomenclature_parses_quoted_descriptions() {
        let hs = hs2022();
        let horses = hs
            .iter()
            .find(|e| e.code == "0101")
            .map(|e| e.description.as_str());
        assert_eq!(horses, Some("Horses, asses, mules and hinnies; live"));
        assert!(hs.iter().filter(|e| e.level == 6).count() > 5000);
    }

    #[test]
    fn code_changes_pair_new_codes_with_deleted_codes_of_the_same_heading() {
        let changes = hs2017_hs2022_changes();
        let level6: std::collections::BTreeSet<&str> = hs2022()
            .iter()
            .filter(|e| e.level == 6)
            .map(|e| e.code.as_str())
            .collect();
        assert_eq!(changes.len(), 255);
        let mut seen = std::collections::BTreeSet::new();
        for c in changes {
            assert!(
                level6.contains(c.hs2022.as_str()),
                "{c:?}: not an HS 2022 code"
            );
            assert!(
                !level6.contains(c.hs2017.as_str()),
                "{c:?}: the predecessor still exists in HS 2022"
            );
            assert_eq!(c.hs2017.len(), 6, "{c:?}");
            assert!(c.hs2017.bytes().all(|b| b.is_ascii_digit()), "{c:?}");
            assert_eq!(c.hs2017[..4], c.hs2022[..4], "{c:?}: another heading");
            assert!(!c.description.is_empty() && !c.source.is_empty(), "{c:?}");
            assert!(seen.insert(c.hs2022.as_str()), "{c:?}: listed twice");
        }
        assert!(seen.iter().is_sorted());
        // Yoghurt got its own subheading in 2022 (0403.20, from 0403.10).
        let yoghurt = changes.iter().find(|c| c.hs2022 == "040320");
        assert_eq!(yoghurt.map(|c| c.hs2017.as_str()), Some("040310"));
    }

    #[test]
    fn csv_handles_quotes_and_crlf() {
        let rows = parse_csv("a,\"b,\"\"c\"\"\"\r\nd,\n");
        assert_eq!(rows, vec![vec!["a", "b,\"c\""], vec!["d", ""]]);
    }
}
