//! `mass-per-unit` (P03): kilograms per supplementary unit far from the group's.
//!
//! **What it detects.** Quantities declared in the wrong unit: grams as kilograms,
//! single pieces as thousands, pairs as dozens. Such a line often also has an odd unit
//! value, but its net mass per declared unit gives it away even when the value was
//! adjusted to look plausible. On kilogram lines, whose unit value is per kg of net
//! mass, it is the only check that sees a supplementary quantity declared in grams.
//!
//! **Method.** For every line with a unit and a positive quantity and net mass:
//! `x = ln(net_mass_kg / quantity)`, compared by a robust z, `(x - median) / s`, both
//! tails, with `s = max(1.4826 * MAD, min_spread)` (the mean-AD rule of `robust-z` at
//! MAD = 0; a spread below `min_spread` is not believed):
//!
//! - a line of another unit (items, litres, pairs) against the same comparison group
//!   as unit values; the score is z calibrated for the group's size;
//! - a kilogram line against its own net mass: its quantity is its net mass whatever
//!   the product, so the reference is `median = 0` (ratio 1) with spread `min_spread`,
//!   exact, and needs no group (small codes are judged too). Gross mass declared as
//!   the quantity (up to about 15% more) stays far below the threshold.
//!
//! Flagged when the score is above `threshold`. A ratio to the median close to a power
//! of ten is named in the explanation: a unit or decimal slip.
//!
//! **Levels.** Mass per unit is a property of the product, and products under one HS6
//! differ by orders of magnitude (a screw and a pump are both "parts"). So by default
//! the detector judges a line of a supplementary unit only against a group that keeps
//! the full national code (levels written `hs+...`); such a line whose national-code
//! group is too small is left to the price detectors, which see the same wrong quantity
//! as a wrong unit value.
//!
//! **Parameters.** `threshold` (default 3.5), `min_spread` (default 0.1 on the ln
//! scale: about 10%), `all_levels` (default false: judge at every fallback level),
//! `calibrate` (default true).
//!
//! **Known false positives.** Codes covering items of very different size (parts,
//! sets, assortments); lines whose net mass was estimated or left at a placeholder.

use serde::{Deserialize, Serialize};

use super::scale::{calibrated_flag, robust_sigma};
use super::{Detector, DetectorKind, Direction, Judgement, Measure};
use crate::baseline::{FineKey, GroupLevel};
use crate::kernels::codes::Code;
use crate::kernels::order_stats::OrderStats;

/// Parameters of [`MassPerUnit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MassPerUnitConfig {
    /// Flag when the calibrated |z| of ln kg per unit is above this.
    pub threshold: f64,
    /// Smallest spread (ln scale) a group's kg per unit is judged with.
    pub min_spread: f64,
    /// Judge at every fallback level, not only national-code levels.
    pub all_levels: bool,
    /// Calibrate the score for the group's size.
    pub calibrate: bool,
}

impl Default for MassPerUnitConfig {
    fn default() -> Self {
        MassPerUnitConfig {
            threshold: 3.5,
            min_spread: 0.1,
            all_levels: false,
            calibrate: true,
        }
    }
}

/// The mass-per-unit detector.
#[derive(Debug, Clone)]
pub struct MassPerUnit {
    config: MassPerUnitConfig,
}

impl MassPerUnit {
    /// With parameters.
    pub fn new(config: MassPerUnitConfig) -> Self {
        MassPerUnit { config }
    }
}

impl Detector for MassPerUnit {
    fn kind(&self) -> DetectorKind {
        DetectorKind::MassPerUnit
    }

    fn measure(&self) -> Measure {
        Measure::KgPerUnit
    }

    fn judge(&self, x: f64, stats: &OrderStats) -> Judgement {
        // `max` takes the floor when the spread is NaN.
        let spread = robust_sigma(stats.mad, stats.mean_ad).max(self.config.min_spread);
        let z = ((x - stats.median) / spread).abs();
        calibrated_flag(
            z,
            (self.config.calibrate && stats.count > 0).then_some(stats.count),
            self.config.threshold,
            Direction::of(x, stats.median),
        )
    }

    fn accepts_level(&self, level: &GroupLevel) -> bool {
        self.config.all_levels || level.hs_digits.is_none()
    }

    fn reference(&self, key: &FineKey) -> Option<OrderStats> {
        // A kilogram line's quantity is its net mass: ln(net mass / quantity) = 0.
        (key.unit == Code::KGM).then_some(OrderStats {
            count: 0,
            q1: 0.0,
            median: 0.0,
            q3: 0.0,
            mad: 0.0,
            mean_ad: 0.0,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn thousandfold_quantity_is_flagged() {
        let s = OrderStats {
            count: 50,
            q1: -0.2,
            median: 0.0,
            q3: 0.2,
            mad: 0.2,
            mean_ad: 0.2,
        };
        let d = MassPerUnit::new(MassPerUnitConfig::default());
        // Quantity x1000 -> kg per unit / 1000.
        assert!(matches!(
            d.judge(-(1000f64.ln()), &s),
            Judgement::Flag { .. }
        ));
        assert_eq!(d.judge(0.1, &s), Judgement::Pass);
        let [national, hs6, ..] = GroupLevel::default_chain();
        let key = |unit| FineKey {
            unit,
            ..FineKey::default()
        };
        assert!(d.accepts_group(&national, &key(Code::NONE)));
        assert!(!d.accepts_group(&hs6, &key(Code::parse_unit("NAR"))));
        assert!(d.reference(&key(Code::parse_unit("NAR"))).is_none());
    }

    #[test]
    fn a_kilogram_line_declared_in_grams_is_flagged_against_its_net_mass() {
        let d = MassPerUnit::new(MassPerUnitConfig::default());
        let exact = d
            .reference(&FineKey {
                unit: Code::KGM,
                ..FineKey::default()
            })
            .unwrap();
        // Quantity in grams: 1000 times the net mass; the score is z = ln 1000 / 0.1.
        let Judgement::Flag { score, raw, .. } = d.judge(-(1000f64.ln()), &exact) else {
            panic!("a thousandfold quantity on a kilogram line");
        };
        assert_eq!(score, raw);
        assert!((raw - 1000f64.ln() / 0.1).abs() < 1e-9);
        // Gross mass as the quantity (15% more), or rounding, is not a slip.
        assert_eq!(d.judge(-(1.15f64.ln()), &exact), Judgement::Pass);
        assert_eq!(d.judge(0.02, &exact), Judgement::Pass);
    }
}
