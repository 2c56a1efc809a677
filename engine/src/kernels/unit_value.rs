//! Unit values on the natural-log scale, with a counted reason for every line that has
//! none (and the reasons a line is not scored at all).
//!
//! # Which denominator
//! Under [`Denominator::Auto`] the line's unit decides: a mass unit (`KGM`, `KG`,
//! `KILOGRAM`, ...) or no unit at all gives the value per kg of net mass (falling back to
//! the quantity when the net mass is missing, since the quantity of a `KGM` line is kilograms);
//! any other unit gives the value per supplementary unit (customs value / quantity).
//! [`Denominator::Quantity`] and [`Denominator::NetMass`] force one denominator.
//!
//! # Nulls, NaN, zero
//! Inputs are plain `f64` slices with NaN in null slots. A missing (NaN), zero or negative
//! denominator, a missing or non-positive customs value, or a result that is not finite
//! yields NaN and a [`SkipReason`]: never an infinity that could leak into a score.

use serde::{Deserialize, Serialize};

/// Which denominator a unit value uses.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Denominator {
    /// Per line by its unit: value per kg when the unit is a mass unit (or absent),
    /// value per supplementary unit otherwise.
    #[default]
    Auto,
    /// Always customs value / quantity, whatever the unit.
    Quantity,
    /// Always customs value / net mass in kg.
    NetMass,
}

/// Why a line has no unit value (and is therefore not price-scored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum SkipReason {
    /// The HS code is null or not 4-12 digits.
    BadHsCode = 1,
    /// The origin is longer than 8 characters or not printable ASCII.
    BadOrigin,
    /// The unit is longer than 8 characters or not printable ASCII.
    BadUnit,
    /// The customs value is null or NaN.
    MissingValue,
    /// The customs value is zero or negative.
    NonPositiveValue,
    /// The quantity (the denominator) is null or NaN.
    MissingQuantity,
    /// The quantity is zero.
    ZeroQuantity,
    /// The quantity is negative.
    NegativeQuantity,
    /// The net mass (the denominator) is null or NaN.
    MissingNetMass,
    /// The net mass is zero.
    ZeroNetMass,
    /// The net mass is negative.
    NegativeNetMass,
    /// Value / denominator overflowed or underflowed.
    NonFiniteUnitValue,
    /// The acceptance date is outside `--from`/`--to` (or null while a window is set).
    OutsideDateWindow,
    /// Every level of the line's comparison group has fewer than `min_group_size` lines.
    GroupTooSmall,
    /// None of the selected detectors applies to the line (e.g. `mass-per-unit` alone and
    /// a line declared in kg, or its group is not at a level the detector accepts).
    NoApplicableDetector,
    /// The scan is restricted to watch families (`--watch`) and the line is in none of
    /// them (it still counts in the comparison groups).
    NotInWatchedFamily,
}

impl SkipReason {
    /// Every reason, in report order.
    pub const ALL: [SkipReason; 16] = [
        SkipReason::BadHsCode,
        SkipReason::BadOrigin,
        SkipReason::BadUnit,
        SkipReason::MissingValue,
        SkipReason::NonPositiveValue,
        SkipReason::MissingQuantity,
        SkipReason::ZeroQuantity,
        SkipReason::NegativeQuantity,
        SkipReason::MissingNetMass,
        SkipReason::ZeroNetMass,
        SkipReason::NegativeNetMass,
        SkipReason::NonFiniteUnitValue,
        SkipReason::OutsideDateWindow,
        SkipReason::GroupTooSmall,
        SkipReason::NoApplicableDetector,
        SkipReason::NotInWatchedFamily,
    ];

    /// snake_case name used in summaries.
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::BadHsCode => "bad_hs_code",
            SkipReason::BadOrigin => "bad_origin",
            SkipReason::BadUnit => "bad_unit",
            SkipReason::MissingValue => "missing_customs_value",
            SkipReason::NonPositiveValue => "non_positive_customs_value",
            SkipReason::MissingQuantity => "missing_quantity",
            SkipReason::ZeroQuantity => "zero_quantity",
            SkipReason::NegativeQuantity => "negative_quantity",
            SkipReason::MissingNetMass => "missing_net_mass",
            SkipReason::ZeroNetMass => "zero_net_mass",
            SkipReason::NegativeNetMass => "negative_net_mass",
            SkipReason::NonFiniteUnitValue => "non_finite_unit_value",
            SkipReason::OutsideDateWindow => "outside_date_window",
            SkipReason::GroupTooSmall => "group_too_small",
            SkipReason::NoApplicableDetector => "no_applicable_detector",
            SkipReason::NotInWatchedFamily => "not_in_watched_family",
        }
    }

    /// The canonical column the reason is about.
    pub fn column(self) -> &'static str {
        match self {
            SkipReason::BadHsCode => "hs_code",
            SkipReason::BadOrigin => "origin",
            SkipReason::BadUnit => "unit",
            SkipReason::MissingValue | SkipReason::NonPositiveValue => "customs_value",
            SkipReason::MissingQuantity
            | SkipReason::ZeroQuantity
            | SkipReason::NegativeQuantity => "quantity",
            SkipReason::MissingNetMass | SkipReason::ZeroNetMass | SkipReason::NegativeNetMass => {
                "net_mass_kg"
            }
            SkipReason::NonFiniteUnitValue => "customs_value",
            SkipReason::OutsideDateWindow => "date",
            SkipReason::GroupTooSmall => "hs_code",
            SkipReason::NoApplicableDetector => "unit",
            SkipReason::NotInWatchedFamily => "hs_code",
        }
    }

    /// Decode from the `u8` stored per line (0 = no reason).
    pub fn from_u8(v: u8) -> Option<SkipReason> {
        SkipReason::ALL.get(usize::from(v).checked_sub(1)?).copied()
    }
}

/// Which measure a unit value is: value per supplementary unit or per kg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Basis {
    /// customs value / quantity.
    #[default]
    PerUnit,
    /// customs value / net mass (kg).
    PerKg,
}

impl Basis {
    /// Name used in the `measure` output column.
    pub fn measure_name(self) -> &'static str {
        match self {
            Basis::PerUnit => "value_per_unit",
            Basis::PerKg => "value_per_kg",
        }
    }
}

/// Which denominator a line uses, given whether its unit is a mass unit (or absent).
#[inline]
pub fn basis(denominator: Denominator, mass_unit: bool) -> Basis {
    match denominator {
        Denominator::Quantity => Basis::PerUnit,
        Denominator::NetMass => Basis::PerKg,
        Denominator::Auto if mass_unit => Basis::PerKg,
        Denominator::Auto => Basis::PerUnit,
    }
}

/// `ln(value / denominator)` of one line, or the reason it has none.
///
/// `per_kg` selects net mass (falling back to `quantity` when the mass is NaN, as for a
/// `KGM` line) over quantity.
#[inline]
pub fn ln_unit_value(
    value: f64,
    quantity: f64,
    mass: f64,
    basis: Basis,
) -> Result<f64, SkipReason> {
    if value.is_nan() {
        return Err(SkipReason::MissingValue);
    }
    if value <= 0.0 {
        return Err(SkipReason::NonPositiveValue);
    }
    let d = match basis {
        Basis::PerUnit => check_denominator(
            quantity,
            [
                SkipReason::MissingQuantity,
                SkipReason::ZeroQuantity,
                SkipReason::NegativeQuantity,
            ],
        )?,
        Basis::PerKg if mass.is_nan() && !quantity.is_nan() => check_denominator(
            quantity,
            [
                SkipReason::MissingQuantity,
                SkipReason::ZeroQuantity,
                SkipReason::NegativeQuantity,
            ],
        )?,
        Basis::PerKg => check_denominator(
            mass,
            [
                SkipReason::MissingNetMass,
                SkipReason::ZeroNetMass,
                SkipReason::NegativeNetMass,
            ],
        )?,
    };
    let ln = (value / d).ln();
    if ln.is_finite() {
        Ok(ln)
    } else {
        Err(SkipReason::NonFiniteUnitValue)
    }
}

#[inline]
fn check_denominator(d: f64, reasons: [SkipReason; 3]) -> Result<f64, SkipReason> {
    if d.is_nan() {
        Err(reasons[0])
    } else if d == 0.0 {
        Err(reasons[1])
    } else if d < 0.0 {
        Err(reasons[2])
    } else {
        Ok(d)
    }
}

/// `ln(net mass / quantity)`: kilograms per supplementary unit, or NaN when either is
/// missing, non-positive, or the result is not finite.
#[inline]
pub fn ln_kg_per_unit(quantity: f64, mass: f64) -> f64 {
    if quantity > 0.0 && mass > 0.0 {
        let v = (mass / quantity).ln();
        if v.is_finite() { v } else { f64::NAN }
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_values() {
        let nan = f64::NAN;
        assert_eq!(
            ln_unit_value(100.0, 10.0, nan, Basis::PerUnit),
            Ok(10f64.ln())
        );
        assert_eq!(
            ln_unit_value(100.0, 10.0, 4.0, Basis::PerKg),
            Ok(25f64.ln())
        );
        // A KGM line without net mass falls back to its quantity (kilograms).
        assert_eq!(
            ln_unit_value(100.0, 10.0, nan, Basis::PerKg),
            Ok(10f64.ln())
        );
        assert_eq!(
            ln_unit_value(nan, 1.0, 1.0, Basis::PerUnit),
            Err(SkipReason::MissingValue)
        );
        assert_eq!(
            ln_unit_value(0.0, 1.0, 1.0, Basis::PerUnit),
            Err(SkipReason::NonPositiveValue)
        );
        assert_eq!(
            ln_unit_value(-3.0, 1.0, 1.0, Basis::PerUnit),
            Err(SkipReason::NonPositiveValue)
        );
        assert_eq!(
            ln_unit_value(1.0, 0.0, 1.0, Basis::PerUnit),
            Err(SkipReason::ZeroQuantity)
        );
        assert_eq!(
            ln_unit_value(1.0, -2.0, 1.0, Basis::PerUnit),
            Err(SkipReason::NegativeQuantity)
        );
        assert_eq!(
            ln_unit_value(1.0, nan, 1.0, Basis::PerUnit),
            Err(SkipReason::MissingQuantity)
        );
        assert_eq!(
            ln_unit_value(1.0, nan, nan, Basis::PerKg),
            Err(SkipReason::MissingNetMass)
        );
        assert_eq!(
            ln_unit_value(1.0, 1.0, 0.0, Basis::PerKg),
            Err(SkipReason::ZeroNetMass)
        );
        assert_eq!(
            ln_unit_value(1e300, 1e-300, nan, Basis::PerUnit),
            Err(SkipReason::NonFiniteUnitValue)
        );
        assert!(ln_kg_per_unit(0.0, 1.0).is_nan());
        assert!(ln_kg_per_unit(2.0, nan).is_nan());
        assert_eq!(ln_kg_per_unit(2.0, 4.0), 2f64.ln());
    }

    #[test]
    fn reason_codes_round_trip() {
        for r in SkipReason::ALL {
            assert_eq!(SkipReason::from_u8(r as u8), Some(r));
        }
        assert_eq!(SkipReason::from_u8(0), None);
    }
}
