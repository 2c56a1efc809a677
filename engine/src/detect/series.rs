//! What every volume finding shares: the run's names for series keys (importer and
//! office symbols, origin codes), its period grid, and the finding every volume
//! detector starts from ([`SeriesContext::base`]).

use super::{DetectorKind, Direction};
use crate::kernels::codes::{Code, HsCode};
use crate::report::Finding;
use crate::series::cells::{CellAgg, MergedCells, hs6_text};
use crate::series::grid::Grid;
use crate::series::{SeriesKind, VolumeMeasure};
use crate::watch::WatchIndex;

/// The run-wide context of volume findings.
pub struct SeriesContext<'a> {
    /// The merged cells (their symbol tables name importers and offices).
    pub cells: &'a MergedCells,
    /// Watch families.
    pub watch: &'a WatchIndex,
    /// The series' amount measure.
    pub measure: VolumeMeasure,
    /// The period grid.
    pub grid: Grid,
    /// First period whose flags are wanted: the first new period against a stored
    /// history, 0 otherwise.
    pub from: usize,
}

impl SeriesContext<'_> {
    /// The importer, origin and office a series key names.
    pub fn key_parts(
        &self,
        kind: SeriesKind,
        key: u64,
    ) -> (Option<String>, Option<String>, Option<String>) {
        let c = self.cells;
        match kind {
            SeriesKind::Importer => (Some(c.importers.name(key as u32).to_string()), None, None),
            SeriesKind::Origin => (None, Some(Code(key).to_text()), None),
            SeriesKind::Office => (None, None, Some(c.offices.name(key as u32).to_string())),
            SeriesKind::Hs6 => (None, None, None),
        }
    }

    /// The findings' `group_key` of a series (`hs6=310230|importer=IM1`).
    pub fn group_key(
        hs6: &str,
        kind: SeriesKind,
        parts: &(Option<String>, Option<String>, Option<String>),
    ) -> String {
        let mut s = format!("hs6={hs6}");
        let (i, o, f) = parts;
        match kind {
            SeriesKind::Importer => {
                s.push_str(&format!("|importer={}", i.as_deref().unwrap_or("")))
            }
            SeriesKind::Origin => s.push_str(&format!("|origin={}", o.as_deref().unwrap_or(""))),
            SeriesKind::Office => s.push_str(&format!("|office={}", f.as_deref().unwrap_or(""))),
            SeriesKind::Hs6 => {}
        }
        s
    }

    /// A volume finding with every field but the detector's own: score, baseline,
    /// explanation (empty) and the detector-specific fields are for the detector to fill.
    #[allow(clippy::too_many_arguments)]
    pub fn base(
        &self,
        detector: DetectorKind,
        hs6: u64,
        kind: SeriesKind,
        key: u64,
        period_start: i32,
        period: &'static str,
        observed: f64,
        agg: &CellAgg,
    ) -> Finding {
        let hs = hs6_text(hs6);
        let parts = self.key_parts(kind, key);
        let measure = self.measure;
        Finding {
            detector: detector.name(),
            detector_id: detector.id(),
            declaration_id: None,
            line_no: None,
            date: None,
            office: parts.2.clone(),
            importer_id: parts.0.clone(),
            origin: parts.1.clone(),
            hs_code: hs.clone(),
            hs6: hs.clone(),
            unit: None,
            quantity: (measure == VolumeMeasure::Quantity).then_some(observed),
            net_mass_kg: (measure == VolumeMeasure::NetMass).then_some(observed),
            customs_value: Some(agg.value.value()),
            measure: measure.name(),
            observed,
            baseline_median: f64::NAN,
            baseline_mad: None,
            baseline_q1: None,
            baseline_q3: None,
            group_level: kind.name().to_string(),
            group_key: Self::group_key(&hs, kind, &parts),
            group_size: 0,
            score: 0.0,
            raw_score: None,
            line_risk: None,
            direction: Direction::High.name(),
            value_gap: None,
            watch_family: self.watch.families_of(HsCode(hs6)),
            series_key: Some(kind.column_value()),
            period_start: Some(period_start),
            period: Some(period),
            history_len: None,
            rule: None,
            corroborated_by: None,
            explanation: String::new(),
            locator: (u32::MAX, 0),
        }
    }
}
