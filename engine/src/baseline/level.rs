use crate::error::{Error, Result};
use crate::kernels::codes::{Code, HsCode};
use crate::kernels::unit_value::Basis;

/// The finest grouping key of a line: full HS code, origin, unit and unit-value basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FineKey {
    /// Full (national) HS code.
    pub hs: HsCode,
    /// Country of origin ([`Code::NONE`] when absent).
    pub origin: Code,
    /// Supplementary unit ([`Code::NONE`] when absent).
    pub unit: Code,
    /// Per unit or per kg: lines of different bases never share a group.
    pub basis: Basis,
}

/// One level of the fallback chain: how many HS digits, and whether origin and unit
/// are part of the group. Written as `hs+origin+unit`, `hs6+unit`, `hs4+unit`, ...
/// (`hs` alone is the full national code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupLevel {
    /// HS digits kept; `None` keeps the full code.
    pub hs_digits: Option<u32>,
    /// Whether the origin is part of the key.
    pub by_origin: bool,
    /// Whether the unit is part of the key.
    pub by_unit: bool,
}

impl GroupLevel {
    /// The default chain: `hs+origin+unit`, `hs6+origin+unit`, `hs6+unit`, `hs4+unit`.
    pub fn default_chain() -> [GroupLevel; 4] {
        [
            GroupLevel {
                hs_digits: None,
                by_origin: true,
                by_unit: true,
            },
            GroupLevel {
                hs_digits: Some(6),
                by_origin: true,
                by_unit: true,
            },
            GroupLevel {
                hs_digits: Some(6),
                by_origin: false,
                by_unit: true,
            },
            GroupLevel {
                hs_digits: Some(4),
                by_origin: false,
                by_unit: true,
            },
        ]
    }

    /// Parse `hs[N][+origin][+unit]`.
    pub fn parse(s: &str) -> Result<GroupLevel> {
        let bad = || {
            Error::config(format!(
                "price.levels: `{s}` is not a level; write hs, hs10, hs8, hs6, hs4 or hs2, \
                 optionally followed by +origin and/or +unit (e.g. hs6+origin+unit)"
            ))
        };
        let mut parts = s.split('+').map(str::trim);
        let hs = parts.next().ok_or_else(bad)?;
        let hs_digits = match hs {
            "hs" => None,
            _ => {
                let n: u32 = hs
                    .strip_prefix("hs")
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(bad)?;
                if n == 0 || n % 2 == 1 || n > 12 {
                    return Err(bad());
                }
                Some(n)
            }
        };
        let mut level = GroupLevel {
            hs_digits,
            by_origin: false,
            by_unit: false,
        };
        for p in parts {
            match p {
                "origin" if !level.by_origin => level.by_origin = true,
                "unit" if !level.by_unit => level.by_unit = true,
                _ => return Err(bad()),
            }
        }
        Ok(level)
    }

    /// Canonical name, as accepted by [`GroupLevel::parse`].
    pub fn name(&self) -> String {
        let mut s = match self.hs_digits {
            None => "hs".to_string(),
            Some(n) => format!("hs{n}"),
        };
        if self.by_origin {
            s.push_str("+origin");
        }
        if self.by_unit {
            s.push_str("+unit");
        }
        s
    }

    /// The level's key of a fine key: dropped components are blanked.
    #[inline]
    pub fn key(&self, k: FineKey) -> FineKey {
        FineKey {
            hs: match self.hs_digits {
                None => k.hs,
                Some(n) => k.hs.prefix(n),
            },
            origin: if self.by_origin { k.origin } else { Code::NONE },
            unit: if self.by_unit { k.unit } else { Code::NONE },
            basis: k.basis,
        }
    }

    /// Human-readable group key, e.g. `hs6=071080|origin=CN|unit=KGM`.
    pub fn key_text(&self, k: FineKey) -> String {
        let k = self.key(k);
        let mut s = match self.hs_digits {
            None => format!("hs={}", k.hs.to_text()),
            Some(n) => format!("hs{n}={}", k.hs.to_text()),
        };
        if self.by_origin {
            s.push_str("|origin=");
            s.push_str(&k.origin.to_text());
        }
        if self.by_unit {
            s.push_str("|unit=");
            s.push_str(&k.unit.to_text());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_print() {
        for name in [
            "hs+origin+unit",
            "hs6+origin+unit",
            "hs6+unit",
            "hs4+unit",
            "hs6+origin",
            "hs",
        ] {
            assert_eq!(
                GroupLevel::parse(name).map(|l| l.name()).ok().as_deref(),
                Some(name)
            );
        }
        for bad in ["hs5", "hs6+origin+origin", "origin", "hs6+colour", ""] {
            assert!(GroupLevel::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_drop_components() {
        let k = FineKey {
            hs: HsCode::parse("0710800000").unwrap_or_default(),
            origin: Code::parse("CN"),
            unit: Code::KGM,
            basis: Basis::PerKg,
        };
        let l = GroupLevel {
            hs_digits: Some(6),
            by_origin: false,
            by_unit: true,
        };
        assert_eq!(l.key_text(k), "hs6=071080|unit=KGM");
        assert_eq!(l.key(k).origin, Code::NONE);
    }
}
