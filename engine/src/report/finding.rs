//! The findings model: one row of a scan's output, and the total order rows are written
//! in.

/// One finding: a line, the detector that fired, and all the evidence to re-check it.
///
/// Unit values (`observed`, `baseline_median`, `baseline_q1`, `baseline_q3`) are on the
/// natural scale, in currency per unit or per kg as `measure` says; they are `exp` of
/// the ln-scale statistics, so `baseline_median` equals
/// `exp(median(ln(customs_value / quantity)))` over the group. `baseline_mad` is on the
/// ln scale (a dimensionless spread: `exp(mad)` is the typical multiplicative deviation).
///
/// A volume finding (`series_key` set) is about a series cell, not a line: the
/// declaration columns are null, `observed` is the period's amount, `baseline_median`
/// and `baseline_mad` describe the series' trailing window on the natural scale, and
/// `group_size` is the number of periods in that window (see each volume detector for
/// the exact meaning).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Detector name (`robust-z`, ...).
    pub detector: &'static str,
    /// Detector id (`P01`, ...).
    pub detector_id: &'static str,
    /// Declaration id.
    pub declaration_id: Option<String>,
    /// Line number within the declaration.
    pub line_no: Option<i64>,
    /// Acceptance date, days since 1970-01-01.
    pub date: Option<i32>,
    /// Customs office.
    pub office: Option<String>,
    /// Importer id.
    pub importer_id: Option<String>,
    /// Country of origin.
    pub origin: Option<String>,
    /// HS code as declared (normalised digits); the HS6 for volume findings.
    pub hs_code: String,
    /// First six digits of the HS code.
    pub hs6: String,
    /// Supplementary unit.
    pub unit: Option<String>,
    /// Quantity.
    pub quantity: Option<f64>,
    /// Net mass in kg.
    pub net_mass_kg: Option<f64>,
    /// Customs value.
    pub customs_value: Option<f64>,
    /// `value_per_unit`, `value_per_kg` or `kg_per_unit`.
    pub measure: &'static str,
    /// The line's value of the measure (natural scale).
    pub observed: f64,
    /// Group median (natural scale).
    pub baseline_median: f64,
    /// Group MAD of the ln measure (volume findings: see the detector).
    pub baseline_mad: Option<f64>,
    /// Group first quartile (natural scale); null for volume findings.
    pub baseline_q1: Option<f64>,
    /// Group third quartile (natural scale); null for volume findings.
    pub baseline_q3: Option<f64>,
    /// Fallback level used (`hs+origin+unit`, ...).
    pub group_level: String,
    /// The comparison group's key (`hs6=071080|origin=CN|unit=KGM`).
    pub group_key: String,
    /// Lines in the comparison group.
    pub group_size: u64,
    /// Score, in standard-deviation equivalents; higher is more anomalous. Price
    /// detectors' scores are calibrated for the group's size (`kernels::tail`), so a
    /// score means the same rarity in a group of 10 lines as in one of 10,000.
    pub score: f64,
    /// Price findings: the detector's statistic before calibration (the robust z);
    /// null for other findings.
    pub raw_score: Option<f64>,
    /// Price findings: the line's risk, the scores of every measure judged on the line
    /// combined ([`Finding::risk`]).
    pub line_risk: Option<f64>,
    /// `low` or `high`.
    pub direction: &'static str,
    /// Declared value minus the value at the group median (revenue-at-risk proxy);
    /// null for measures that are not prices.
    pub value_gap: Option<f64>,
    /// Watched families of the HS code, `;`-separated; null when none.
    pub watch_family: Option<String>,
    /// Volume findings: the series key kind (`hs6_importer`, `hs6_origin`,
    /// `hs6_office`, `hs6`); null for line findings.
    pub series_key: Option<&'static str>,
    /// Volume findings: first day of the period (a Monday for weeks).
    pub period_start: Option<i32>,
    /// Volume findings: `week`, `month` (or `day` for split shipments).
    pub period: Option<&'static str>,
    /// Volume findings: periods of the series' history before this one.
    pub history_len: Option<u64>,
    /// Volume findings: which rule flagged the series (`amount`, `lines`,
    /// `count_model`, `drop`, `first_appearance`); null for line findings and split
    /// shipments.
    pub rule: Option<&'static str>,
    /// The less specific series that show the same event, folded into this finding
    /// (`run::events`): `detector:group_key@period_start`, `;`-separated; null when
    /// none.
    pub corroborated_by: Option<String>,
    /// One sentence of explanation.
    pub explanation: String,
    /// Scan unit and row within it: the final tie-break of the sort order.
    pub locator: (u32, u32),
}

impl Finding {
    /// A line finding of `detector` on line 1 of `declaration`, hs 300490, with neutral
    /// figures: the start of a test's finding.
    #[cfg(test)]
    pub(crate) fn test_line(detector: &'static str, declaration: &str) -> Finding {
        Finding {
            detector,
            detector_id: "P01",
            declaration_id: Some(declaration.into()),
            line_no: Some(1),
            date: None,
            office: None,
            importer_id: None,
            origin: None,
            hs_code: "3004900000".into(),
            hs6: "300490".into(),
            unit: None,
            quantity: None,
            net_mass_kg: None,
            customs_value: None,
            measure: "value_per_kg",
            observed: 1.0,
            baseline_median: 1.0,
            baseline_mad: None,
            baseline_q1: None,
            baseline_q3: None,
            group_level: String::new(),
            group_key: String::new(),
            group_size: 0,
            score: 4.0,
            raw_score: None,
            line_risk: None,
            direction: "high",
            value_gap: None,
            watch_family: None,
            series_key: None,
            period_start: None,
            period: None,
            history_len: None,
            rule: None,
            corroborated_by: None,
            explanation: String::new(),
            locator: (0, 0),
        }
    }

    /// The risk of the inspection item (a line, or a series finding) the finding
    /// belongs to, on the score scale: a line's risk combines the evidence of every
    /// measure judged on it (unit value, kg per unit; `kernels::tail::combined_z`), the
    /// strongest detector of each, and is never below its strongest finding's score; a
    /// series finding's is its score.
    pub fn risk(&self) -> f64 {
        self.line_risk.unwrap_or(self.score)
    }

    /// The total order findings are written in: risk descending, so that an item's
    /// findings are together and items come in risk order; then declaration, line,
    /// series key and period; then score descending, detector, and position in the
    /// input.
    pub fn output_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
        b.risk()
            .total_cmp(&a.risk())
            .then_with(|| a.declaration_id.cmp(&b.declaration_id))
            .then_with(|| a.line_no.cmp(&b.line_no))
            .then_with(|| a.series_key.cmp(&b.series_key))
            .then_with(|| a.hs6.cmp(&b.hs6))
            .then_with(|| a.importer_id.cmp(&b.importer_id))
            .then_with(|| a.origin.cmp(&b.origin))
            .then_with(|| a.office.cmp(&b.office))
            .then_with(|| a.period_start.cmp(&b.period_start))
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| a.detector_id.cmp(b.detector_id))
            .then_with(|| a.locator.cmp(&b.locator))
    }

    /// Whether the finding is about a declaration line (not a volume series).
    pub fn is_line(&self) -> bool {
        self.series_key.is_none()
    }
}
