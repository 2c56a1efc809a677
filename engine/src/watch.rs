//! Watch families matched by HS prefix.
//!
//! A line in a watched family is a reason for a closer look, never proof that the goods
//! are controlled: output says "in a watched family".

use tradescan_datasets::reference;

use crate::error::{Error, Result};
use crate::kernels::codes::HsCode;
use crate::kernels::hash::FxHashMap;

/// Prefix lookup of watch families.
#[derive(Debug, Clone, Default)]
pub struct WatchIndex {
    families: Vec<String>,
    by_prefix: FxHashMap<HsCode, u64>,
    lists: Vec<WatchList>,
}

/// One list of prefixes: the shipped one or a user's file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WatchList {
    /// `shipped` or the file's path.
    pub source: String,
    /// Edition (`YYYY-MM` for the shipped list) or the file's fingerprint.
    pub edition: String,
    /// Prefixes per family in this list.
    pub families: std::collections::BTreeMap<String, u64>,
}

impl WatchIndex {
    /// The families shipped with tradescan.
    pub fn shipped() -> WatchIndex {
        let mut idx = WatchIndex {
            families: reference::FAMILIES.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let mut list = WatchList {
            source: "shipped".into(),
            edition: reference::WATCHLIST_EDITION.into(),
            families: Default::default(),
        };
        for e in reference::watchlist() {
            if idx.add(&e.family, &e.hs_prefix) {
                *list.families.entry(e.family.clone()).or_default() += 1;
            }
        }
        idx.lists.push(list);
        idx
    }

    /// The shipped families plus the users' lists: CSV files with a header naming the
    /// columns `family` and `hs_prefix` (and optionally `description`, ignored). A bad
    /// file is an error naming the file and line.
    pub fn with_lists(paths: &[std::path::PathBuf]) -> Result<WatchIndex> {
        let mut idx = WatchIndex::shipped();
        for path in paths {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            let bad = |line: usize, msg: String| Error::Config {
                path: Some(path.clone()),
                message: format!("watch list, line {line}: {msg}"),
            };
            let rows = reference::parse_csv(&text);
            let header = rows.first().ok_or_else(|| bad(1, "empty file".into()))?;
            let col = |name: &str| header.iter().position(|h| h.trim() == name);
            let (Some(fam), Some(pre)) = (col("family"), col("hs_prefix")) else {
                return Err(bad(
                    1,
                    "the header must name the columns `family` and `hs_prefix`".into(),
                ));
            };
            let mut list = WatchList {
                source: path.display().to_string(),
                edition: crate::kernels::hash::fingerprint(text.as_bytes()),
                families: Default::default(),
            };
            for (i, row) in rows.iter().enumerate().skip(1) {
                if row.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                let family = row.get(fam).map(|s| s.trim()).unwrap_or("");
                let prefix: String = row
                    .get(pre)
                    .map(|s| s.chars().filter(|c| !matches!(c, '.' | ' ')).collect())
                    .unwrap_or_default();
                if family.is_empty() {
                    return Err(bad(i + 1, "empty family".into()));
                }
                if !idx.add(family, &prefix) {
                    return Err(bad(
                        i + 1,
                        format!(
                            "`{prefix}` is not an HS prefix of 2-12 digits (or more than 64 families)"
                        ),
                    ));
                }
                *list.families.entry(family.to_string()).or_default() += 1;
            }
            idx.lists.push(list);
        }
        Ok(idx)
    }

    /// The lists the index was built from.
    pub fn lists(&self) -> &[WatchList] {
        &self.lists
    }

    /// Every family name, in bit order.
    pub fn families(&self) -> &[String] {
        &self.families
    }

    /// Add one HS prefix to a family (created if new). Prefixes that do not parse as
    /// 2-12 digits are ignored by returning `false`.
    pub fn add(&mut self, family: &str, prefix: &str) -> bool {
        let code = match prefix.len() {
            2 | 3 => HsCode::parse(&format!("{prefix}00")).map(|c| c.prefix(2)),
            _ => HsCode::parse(prefix),
        };
        let Some(code) = code.filter(|_| prefix.bytes().all(|b| b.is_ascii_digit())) else {
            return false;
        };
        let bit = match self.families.iter().position(|f| f == family) {
            Some(i) => i,
            None => {
                self.families.push(family.to_string());
                self.families.len() - 1
            }
        };
        if bit >= 64 {
            return false;
        }
        *self.by_prefix.entry(code).or_default() |= 1 << bit;
        true
    }

    /// Families of an HS code, `;`-separated in family order; `None` when in none.
    pub fn families_of(&self, hs: HsCode) -> Option<String> {
        self.names_of(self.mask_of(hs))
    }

    /// Families of an HS code as a bit set (bit `i`: the `i`-th family).
    pub fn mask_of(&self, hs: HsCode) -> u64 {
        let mut mask = 0u64;
        for n in (2..=hs.len()).step_by(2) {
            if let Some(m) = self.by_prefix.get(&hs.prefix(n)) {
                mask |= m;
            }
        }
        mask
    }

    /// Names of the families in a bit set, `;`-separated; `None` for the empty set.
    pub fn names_of(&self, mask: u64) -> Option<String> {
        if mask == 0 {
            return None;
        }
        let names: Vec<&str> = self
            .families
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, f)| f.as_str())
            .collect();
        Some(names.join(";"))
    }

    /// The bit set of named families; an unknown name is a configuration error naming
    /// `setting`.
    pub fn mask_of_names(&self, names: &[String], setting: &str) -> Result<u64> {
        let mut mask = 0u64;
        for name in names {
            let Some(i) = self.families.iter().position(|f| f == name) else {
                return Err(Error::config(format!(
                    "{setting}: unknown watch family `{name}`; known: {}",
                    self.families.join(", ")
                )));
            };
            mask |= 1 << i;
        }
        Ok(mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_families_match_by_prefix() {
        let w = WatchIndex::shipped();
        let an = HsCode::parse("3102300000").unwrap_or_default(); // ammonium nitrate
        assert_eq!(w.families_of(an).as_deref(), Some("ied_precursors"));
        let pistol = HsCode::parse("93020000").unwrap_or_default();
        assert_eq!(w.families_of(pistol).as_deref(), Some("salw_ammunition"));
        let potatoes = HsCode::parse("0701900000").unwrap_or_default();
        assert_eq!(w.families_of(potatoes), None);
        let mut w = w;
        assert!(w.add("my_list", "0701"));
        assert_eq!(w.families_of(potatoes).as_deref(), Some("my_list"));
        assert!(!w.add("my_list", "07x1"));
    }

    #[test]
    fn user_lists_add_families_and_bad_rows_name_the_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let good = dir.path().join("mine.csv");
        std::fs::write(
            &good,
            "family,hs_prefix,description\nvegetables,0701,\"potatoes, fresh\"\n\nvegetables,0702.00,x\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let w =
            WatchIndex::with_lists(std::slice::from_ref(&good)).unwrap_or_else(|e| panic!("{e}"));
        let tomatoes = HsCode::parse("0702000000").unwrap_or_default();
        assert_eq!(w.families_of(tomatoes).as_deref(), Some("vegetables"));
        assert_eq!(w.lists()[1].families["vegetables"], 2);
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "family,hs_prefix\nx,31a2\n").unwrap_or_else(|e| panic!("{e}"));
        let e = WatchIndex::with_lists(&[bad])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("bad.csv") && e.contains("line 2"), "{e}");
    }
}
