//! The random audit: `--random-audit RATE --seed S` adds lines without any finding,
//! each drawn with probability `RATE` by a hash of the seed and the line's position,
//! reported with detector `random-audit` (`R00`) and score 0. Inspecting them measures
//! the hit rate of unselected trade, so the detectors' hit rate can be compared without
//! selection bias.

use super::measure::UnitMeasures;
use crate::baseline::FineKey;
use crate::config::SelectionConfig;
use crate::detect::price::{Flag, KeyTexts, LineDetail, line_finding};
use crate::report::Finding;
use crate::watch::WatchIndex;

/// Detector name of random-audit lines.
pub const RANDOM_AUDIT: &str = "random-audit";
/// Detector id of random-audit lines.
pub const RANDOM_AUDIT_ID: &str = "R00";

/// Draw the random audit of one unit: each line without a finding is taken with
/// probability `rate`, decided by a hash of (seed, unit, row), so the sample depends on
/// the seed and the input only.
pub fn draw_audit(
    flags: &[Flag],
    u: &UnitMeasures,
    ui: usize,
    rate: f64,
    seed: u64,
) -> Vec<(u32, f64)> {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let hasher = BuildHasherDefault::<crate::kernels::hash::FxHasher>::default();
    let cut = (rate.clamp(0.0, 1.0) * u64::MAX as f64) as u64;
    let mut flagged = flags.iter().map(|f| f.row).peekable();
    let mut out = Vec::new();
    for row in 0..u.gid.len() as u32 {
        while flagged.next_if(|&r| r < row).is_some() {}
        if flagged.peek() == Some(&row) {
            continue;
        }
        let h = hasher
            .hash_one((seed, ui as u64, row))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        if h < cut {
            out.push((row, u.uv.get(row as usize).copied().unwrap_or(f64::NAN)));
        }
    }
    out
}

/// A line drawn by the random audit.
pub fn audit_finding(
    d: &LineDetail,
    key: Option<FineKey>,
    uv: f64,
    sel: &SelectionConfig,
    watch: &WatchIndex,
    locator: (u32, u32),
) -> Finding {
    // No key (a line without a usable group key): empty codes, no family.
    let kt = key.map(|k| KeyTexts::new(k, watch)).unwrap_or_default();
    Finding {
        measure: key.map_or("none", |k| k.basis.measure_name()),
        observed: uv.exp(),
        explanation: format!(
            "drawn at random (rate {}, seed {}) among lines without a finding, so that \
             hit rates can be measured without selection bias",
            sel.random_audit, sel.seed
        ),
        ..line_finding((RANDOM_AUDIT, RANDOM_AUDIT_ID), d, &kt, locator)
    }
}
