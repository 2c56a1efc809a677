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
}

impl WatchIndex {
    /// The families shipped with tradescan.
    pub fn shipped() -> WatchIndex {
        let mut idx = WatchIndex {
            families: reference::FAMILIES.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        for e in reference::watchlist() {
            idx.add(&e.family, &e.hs_prefix);
        }
        idx
    }

    /// Add one HS prefix to a family (created if new). Prefixes that do not parse as
    /// 2-12 digits are ignored by returning `false`.
    pub fn add(&mut self, family: &str, prefix: &str) -> bool {
        let code = match prefix.len() {
            2 | 3 => HsCode::parse(&format!("{prefix}00")).map(|c| c.prefix(2)),
            _ => HsCode::parse(prefix),
        };
        let Some(code) = code else { return false };
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
    }
}
