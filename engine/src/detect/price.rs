//! What every price finding holds, whichever detector fired: the line's declaration
//! fields, its comparison group and fallback level, the baseline, the value gap, and
//! the explanation (`value per unit 1.234 is 5.6x below the median ... of 56 lines in
//! hs6=071080|origin=CN (level 2 of 4: hs6+origin+unit); robust-z score 7.89`).

use std::fmt::Write as _;

use super::{DetectorKind, Direction, Measure};
use crate::baseline::{FineKey, GroupBaseline, GroupLevel, REFERENCE_LEVEL};
use crate::kernels::unit_value::Basis;
use crate::report::{Finding, Sig, spaced};
use crate::watch::WatchIndex;

/// One detector firing on one line, before its details are read.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// Row within the scan unit.
    pub row: u32,
    /// Index of the detector among the run's price detectors.
    pub detector: u8,
    /// The detector's score (calibrated).
    pub score: f64,
    /// The detector's statistic before calibration.
    pub raw: f64,
    /// Which side of the baseline.
    pub direction: Direction,
    /// The judged ln value.
    pub value: f64,
    /// The price tier of the group the line was judged against.
    pub tier: Option<u8>,
    /// Index of the local group (in the local baseline) that confirmed a fallback flag.
    pub local: Option<u32>,
}

/// The texts a fine key gives every finding of its lines.
#[derive(Clone, Default)]
pub struct KeyTexts {
    /// The full HS code.
    pub hs_code: String,
    /// Its first six digits.
    pub hs6: String,
    /// Country of origin.
    pub origin: Option<String>,
    /// Supplementary unit.
    pub unit: Option<String>,
    /// Watch families of the code, `;`-separated.
    pub watch_family: Option<String>,
}

impl KeyTexts {
    /// The texts of key `k`.
    pub fn new(k: FineKey, watch: &WatchIndex) -> KeyTexts {
        KeyTexts {
            hs_code: k.hs.to_text(),
            hs6: k.hs.prefix(6).to_text(),
            origin: (!k.origin.is_none()).then(|| k.origin.to_text()),
            unit: (!k.unit.is_none()).then(|| k.unit.to_text()),
            watch_family: watch.families_of(k.hs),
        }
    }
}

/// `group_key` and `group_level` of a finding judged against a fixed reference: a
/// kilogram line's quantity against its net mass.
pub const REFERENCE_KEY: &str = "quantity=net_mass";

/// The texts a comparison group gives every finding judged against it.
#[derive(Clone)]
pub struct GroupTexts {
    /// The group's key (`hs6=071080|origin=CN`).
    pub key: String,
    /// Its level's name (`hs6+origin+unit`).
    pub level: String,
    /// Where the explanation places the group: `hs6=071080|origin=CN (level 1 of 3:
    /// hs6+origin)`.
    pub place: String,
}

impl GroupTexts {
    /// The texts of group `g`.
    pub fn new(g: &GroupBaseline, levels: &[GroupLevel]) -> GroupTexts {
        let Some(level) = levels.get(g.level) else {
            // A fixed reference (kilogram lines: quantity = net mass), no group.
            return GroupTexts {
                key: REFERENCE_KEY.to_string(),
                level: REFERENCE_KEY.to_string(),
                place: String::new(),
            };
        };
        let key = level.key_text(g.key);
        let name = level.name();
        let place = format!("{key} (level {} of {}: {name})", g.level + 1, levels.len());
        GroupTexts {
            key,
            level: name,
            place,
        }
    }
}

/// The declaration fields of a flagged line, read back after scoring.
#[derive(Debug, Clone)]
pub struct LineDetail {
    /// Declaration id.
    pub declaration_id: Option<String>,
    /// Line number.
    pub line_no: Option<i64>,
    /// Acceptance date (days since 1970-01-01).
    pub date: Option<i32>,
    /// Customs office.
    pub office: Option<String>,
    /// Importer id.
    pub importer_id: Option<String>,
    /// Quantity (finite or null).
    pub quantity: Option<f64>,
    /// Net mass in kg.
    pub net_mass_kg: Option<f64>,
    /// Customs value.
    pub customs_value: Option<f64>,
}

/// The finding of a price detector's flag on a line: the baseline of the group it was
/// judged against (and of the local group that confirmed a fallback flag), the value
/// gap for unit values, and the explanation.
#[allow(clippy::too_many_arguments)]
pub fn price_finding(
    (kind, measure): (DetectorKind, Measure),
    flag: &Flag,
    d: &LineDetail,
    key: FineKey,
    (g, local): (&GroupBaseline, Option<&GroupBaseline>),
    (kt, gt): (&KeyTexts, &GroupTexts),
    levels: &[GroupLevel],
    locator: (u32, u32),
) -> Finding {
    // A line of a group with price tiers was judged against its tier.
    let tier = flag
        .tier
        .and_then(|i| Some((i, g.tiers.as_ref()?)))
        .and_then(|(i, t)| Some((i, t.stats.len(), t.stats.get(usize::from(i))?)));
    let st = tier.map_or(&g.stats, |t| t.2);
    let price = measure == Measure::UnitValue;
    let measure = if price {
        key.basis.measure_name()
    } else {
        "kg_per_unit"
    };
    let observed = flag.value.exp();
    let median = st.median.exp();
    let value_gap = if price {
        let denominator = match key.basis {
            Basis::PerUnit => d.quantity,
            Basis::PerKg => d.net_mass_kg.or(d.quantity),
        };
        match (d.customs_value, denominator) {
            (Some(v), Some(q)) => Some(v - median * q),
            _ => None,
        }
    } else {
        None
    };
    let ratio = if observed >= median {
        observed / median
    } else {
        median / observed
    };
    let side = if observed >= median { "above" } else { "below" };
    // One buffer, written in place: this runs once per finding.
    let mut explanation = String::with_capacity(160);
    let _ = write!(
        explanation,
        "{} {} is {:.1}x {} ",
        spaced(measure),
        Sig(observed),
        ratio,
        side
    );
    let _ = match tier {
        _ if g.level == REFERENCE_LEVEL => write!(
            explanation,
            "its net mass per declared kilogram (1: a kilogram line's quantity is its net mass)"
        ),
        Some((i, k, _)) => write!(
            explanation,
            "the median {} of price tier {} of {} ({} of the {} lines) in {}",
            Sig(median),
            i + 1,
            k,
            st.count,
            g.stats.count,
            gt.place
        ),
        None => write!(
            explanation,
            "the median {} of {} lines in {}",
            Sig(median),
            st.count,
            gt.place
        ),
    };
    if let Some(l) = local {
        let _ = write!(
            explanation,
            ", and far from the median {} of its own {} lines in {}",
            Sig(l.stats.median.exp()),
            l.stats.count,
            levels[l.level].key_text(key)
        );
    }
    let _ = if st.count == 0 {
        write!(explanation, "; {} z {:.2}", kind.name(), flag.raw)
    } else {
        write!(
            explanation,
            "; {} z {:.2}, score {:.2} for a group of {}",
            kind.name(),
            flag.raw,
            flag.score,
            st.count
        )
    };
    if let Some(power) = power_of_ten(ratio) {
        let _ = write!(
            explanation,
            "; {power}x is a power of ten: {}",
            if price {
                "a decimal or unit slip in the value or the quantity?"
            } else {
                "quantity or net mass declared in another unit?"
            }
        );
    }
    Finding {
        measure,
        observed,
        baseline_median: median,
        baseline_mad: Some(st.mad),
        baseline_q1: Some(st.q1.exp()),
        baseline_q3: Some(st.q3.exp()),
        group_level: gt.level.clone(),
        group_key: gt.key.clone(),
        group_size: st.count,
        score: flag.score,
        raw_score: Some(flag.raw),
        line_risk: None,
        direction: flag.direction.name(),
        value_gap,
        explanation,
        ..line_finding((kind.name(), kind.id()), d, kt, locator)
    }
}

/// A line finding with the line's declaration fields and codes filled in and no
/// evidence yet (no baseline, score 0, empty explanation): what every line finding
/// starts from.
pub fn line_finding(
    (detector, detector_id): (&'static str, &'static str),
    d: &LineDetail,
    kt: &KeyTexts,
    locator: (u32, u32),
) -> Finding {
    Finding {
        detector,
        detector_id,
        declaration_id: d.declaration_id.clone(),
        line_no: d.line_no,
        date: d.date,
        office: d.office.clone(),
        importer_id: d.importer_id.clone(),
        origin: kt.origin.clone(),
        hs_code: kt.hs_code.clone(),
        hs6: kt.hs6.clone(),
        unit: kt.unit.clone(),
        quantity: d.quantity,
        net_mass_kg: d.net_mass_kg,
        customs_value: d.customs_value,
        measure: "none",
        observed: f64::NAN,
        baseline_median: f64::NAN,
        baseline_mad: None,
        baseline_q1: None,
        baseline_q3: None,
        group_level: String::new(),
        group_key: String::new(),
        group_size: 0,
        score: 0.0,
        raw_score: None,
        line_risk: None,
        direction: "none",
        value_gap: None,
        watch_family: kt.watch_family.clone(),
        series_key: None,
        period_start: None,
        period: None,
        history_len: None,
        rule: None,
        corroborated_by: None,
        explanation: String::new(),
        locator,
    }
}

/// The power of ten (10, 100, 1000, ...) a ratio of at least 10 is within 15% of.
/// Unit and decimal slips (grams for kilograms, a misplaced decimal point) put a line
/// at such a ratio from its group.
pub fn power_of_ten(ratio: f64) -> Option<u64> {
    let exponent = ratio.log10().round();
    let close = (ratio.log10() - exponent).abs() < 1.15f64.log10();
    ((1.0..=12.0).contains(&exponent) && close).then(|| 10u64.pow(exponent as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_near_a_power_of_ten_are_named() {
        assert_eq!(power_of_ten(1000.0), Some(1000));
        assert_eq!(power_of_ten(950.0), Some(1000));
        assert_eq!(power_of_ten(11.0), Some(10));
        assert_eq!(power_of_ten(500.0), None);
        assert_eq!(power_of_ten(3.0), None);
        assert_eq!(power_of_ten(1.05), None);
        assert_eq!(power_of_ten(f64::NAN), None);
        assert_eq!(power_of_ten(f64::INFINITY), None);
    }
}
