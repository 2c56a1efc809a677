//! Commodity codes and short codes (origin, unit) packed into `u64` keys.
//!
//! Packing keeps group keys fixed-size and `Copy`: no string is allocated per line.

/// A commodity code of 4 to 12 digits, packed as `digits * 16 + length`; 0 is "none".
///
/// Leading zeros are kept by the length (`071080` and `71080` differ). Dots and spaces
/// in the source text are ignored (`0710.80` is `071080`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct HsCode(pub u64);

/// Fewest and most digits accepted in an HS code.
pub const HS_MIN_DIGITS: u32 = 4;
/// See [`HS_MIN_DIGITS`].
pub const HS_MAX_DIGITS: u32 = 12;

impl HsCode {
    /// No code.
    pub const NONE: HsCode = HsCode(0);

    /// Parse a code from text: digits, with dots and spaces ignored; 4 to 12 digits.
    pub fn parse(s: &str) -> Option<HsCode> {
        let mut digits: u64 = 0;
        let mut len: u32 = 0;
        for b in s.bytes() {
            match b {
                b'0'..=b'9' => {
                    len += 1;
                    if len > HS_MAX_DIGITS {
                        return None;
                    }
                    digits = digits * 10 + u64::from(b - b'0');
                }
                b'.' | b' ' => {}
                _ => return None,
            }
        }
        (len >= HS_MIN_DIGITS).then_some(HsCode(digits << 4 | u64::from(len)))
    }

    /// A code stored as an integer, whose leading zero was lost: HS codes have an even
    /// number of digits, so an odd-length number gets one leading zero back
    /// (`71080` -> `071080`).
    pub fn from_int(v: i64) -> Option<HsCode> {
        if v < 0 {
            return None;
        }
        let v = v as u64;
        let mut len = if v == 0 { 1 } else { v.ilog10() + 1 };
        if len % 2 == 1 {
            len += 1;
        }
        (HS_MIN_DIGITS..=HS_MAX_DIGITS)
            .contains(&len)
            .then_some(HsCode(v << 4 | u64::from(len)))
    }

    /// Number of digits (0 for [`HsCode::NONE`]).
    pub fn len(self) -> u32 {
        (self.0 & 0xF) as u32
    }

    /// Whether this is [`HsCode::NONE`].
    pub fn is_none(self) -> bool {
        self.0 == 0
    }

    /// Whether this is [`HsCode::NONE`] (no digits).
    pub fn is_empty(self) -> bool {
        self.is_none()
    }

    /// The first `n` digits (the code itself when it has `n` digits or fewer).
    pub fn prefix(self, n: u32) -> HsCode {
        let len = self.len();
        if len <= n {
            return self;
        }
        let digits = (self.0 >> 4) / 10u64.pow(len - n);
        HsCode(digits << 4 | u64::from(n))
    }

    /// The code as text, leading zeros included.
    pub fn to_text(self) -> String {
        if self.is_none() {
            return String::new();
        }
        format!("{:0width$}", self.0 >> 4, width = self.len() as usize)
    }
}

/// A short code (country, unit, ...) of up to 8 ASCII characters, upper-cased and
/// packed big-endian so that integer order is text order. 0 is "absent";
/// [`Code::INVALID`] is "present but unusable" (too long or not printable ASCII).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Code(pub u64);

impl Code {
    /// Absent (null or empty).
    pub const NONE: Code = Code(0);
    /// Present but not a usable code.
    pub const INVALID: Code = Code(u64::MAX);
    /// Kilograms (WCO `KGM`).
    pub const KGM: Code = Code::from_static(b"KGM");

    const fn from_static(b: &[u8]) -> Code {
        let mut v = 0u64;
        let mut i = 0;
        while i < 8 {
            v <<= 8;
            if i < b.len() {
                v |= b[i] as u64;
            }
            i += 1;
        }
        Code(v)
    }

    /// Pack a code: trimmed, upper-cased; empty -> [`Code::NONE`]; more than 8 bytes
    /// or not printable ASCII -> [`Code::INVALID`].
    pub fn parse(s: &str) -> Code {
        let t = s.trim().as_bytes();
        if t.is_empty() {
            return Code::NONE;
        }
        if t.len() > 8 || !t.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            return Code::INVALID;
        }
        let mut v = 0u64;
        for i in 0..8 {
            v = v << 8 | u64::from(t.get(i).map_or(0, |b| b.to_ascii_uppercase()));
        }
        Code(v)
    }

    /// Pack a unit code, mapping the usual spellings of kilograms onto `KGM`.
    pub fn parse_unit(s: &str) -> Code {
        let t = s.trim();
        if MASS_UNIT_SPELLINGS
            .iter()
            .any(|m| t.eq_ignore_ascii_case(m))
        {
            Code::KGM
        } else {
            Code::parse(t)
        }
    }

    /// The code as text (empty for [`Code::NONE`], `?` for [`Code::INVALID`]).
    pub fn to_text(self) -> String {
        if self == Code::INVALID {
            return "?".into();
        }
        let bytes = self.0.to_be_bytes();
        bytes
            .iter()
            .take_while(|b| **b != 0)
            .map(|b| *b as char)
            .collect()
    }

    /// Whether this is [`Code::NONE`].
    pub fn is_none(self) -> bool {
        self == Code::NONE
    }
}

/// UN/ECE Recommendation 20 codes used as supplementary units in customs tariffs
/// (WCO, EU Combined Nomenclature, national tariffs). A unit outside this list is still
/// grouped and scored on its own; it is counted as `unknown_unit` in the run record.
pub const KNOWN_UNITS: [&str; 44] = [
    "KGM", "GRM", "TNE", "DTN", "LTR", "HLT", "MLT", "MTQ", "MTK", "MTR", "KMT", "NAR", "NPR",
    "PR", "DZN", "DPC", "C62", "H87", "NMP", "CEN", "MIL", "TJO", "KWH", "MWH", "CTM", "GFI",
    "GRT", "KPH", "KPO", "KSD", "KSH", "KUR", "KNI", "KNS", "KMA", "KCC", "KPP", "NCL", "LPA",
    "2U", "CCT", "GRO", "SET", "U",
];

/// [`KNOWN_UNITS`] packed once, at compile time (the check runs on every line).
const KNOWN_UNIT_CODES: [Code; KNOWN_UNITS.len()] = {
    let mut out = [Code::NONE; KNOWN_UNITS.len()];
    let mut i = 0;
    while i < KNOWN_UNITS.len() {
        out[i] = Code::from_static(KNOWN_UNITS[i].as_bytes());
        i += 1;
    }
    out
};

impl Code {
    /// Whether this is one of the [`KNOWN_UNITS`].
    pub fn is_known_unit(self) -> bool {
        KNOWN_UNIT_CODES.contains(&self)
    }
}

/// Unit spellings read as kilograms (the line's unit value is then per kg).
pub const MASS_UNIT_SPELLINGS: [&str; 7] =
    ["KGM", "KG", "KGS", "KILO", "KILOS", "KILOGRAM", "KILOGRAMS"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hs_codes_keep_leading_zeros_and_prefixes() {
        let c = HsCode::parse("0710.80.00").unwrap_or_default();
        assert_eq!(c.to_text(), "07108000");
        assert_eq!(c.prefix(6).to_text(), "071080");
        assert_eq!(c.prefix(4).to_text(), "0710");
        assert_ne!(HsCode::parse("071080"), HsCode::parse("71080"));
        assert_eq!(
            HsCode::from_int(71080).map(|c| c.to_text()).as_deref(),
            Some("071080")
        );
        assert_eq!(
            HsCode::from_int(8471300000).map(|c| c.to_text()).as_deref(),
            Some("8471300000")
        );
        assert_eq!(HsCode::parse("07A080"), None);
        assert_eq!(HsCode::parse("071"), None);
        assert_eq!(HsCode::parse("1234567890123"), None);
        assert_eq!(HsCode::from_int(-5), None);
    }

    #[test]
    fn short_codes_pack_in_text_order() {
        assert_eq!(Code::parse(" cn ").to_text(), "CN");
        assert!(Code::parse("CN") < Code::parse("DE"));
        assert!(Code::parse("C") < Code::parse("CA"));
        assert_eq!(Code::parse(""), Code::NONE);
        assert_eq!(Code::parse("ABCDEFGHI"), Code::INVALID);
        assert_eq!(Code::parse_unit("kg"), Code::KGM);
        assert_eq!(Code::parse_unit("Kilograms"), Code::KGM);
        assert_eq!(Code::parse_unit("NAR").to_text(), "NAR");
        assert!(Code::parse_unit("kg").is_known_unit());
        assert!(Code::parse_unit("nar").is_known_unit());
        assert!(!Code::parse_unit("BOXES").is_known_unit());
    }
}
