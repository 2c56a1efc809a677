//! The ground truth a run plants: label names, and per line the label and what it
//! changed.

/// Anomaly labels, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Label {
    UnderValuation,
    OverValuation,
    WrongUnit,
    PriceGouging,
    /// Realistic profile only.
    CurrencySlip,
    /// Realistic profile only.
    Duplicate,
    VolumeSurge,
    FirstTimePrecursorImporter,
    /// Realistic profile only, a series label of a known-benign event: a seasonal peak.
    SeasonalPeak,
    /// Realistic profile only, a series label of a known-benign event: a series that
    /// stops or starts because its code changed at a nomenclature update.
    Reclassification,
}

impl Label {
    /// The labels of the clean profile, in report order.
    pub(crate) const CLEAN: [Label; 6] = [
        Label::UnderValuation,
        Label::OverValuation,
        Label::WrongUnit,
        Label::PriceGouging,
        Label::VolumeSurge,
        Label::FirstTimePrecursorImporter,
    ];

    /// Every label, in report order.
    pub(crate) const ALL: [Label; 8] = [
        Label::UnderValuation,
        Label::OverValuation,
        Label::WrongUnit,
        Label::PriceGouging,
        Label::CurrencySlip,
        Label::Duplicate,
        Label::VolumeSurge,
        Label::FirstTimePrecursorImporter,
    ];

    /// The label's name in `lines.csv`, `series.csv` and the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Label::UnderValuation => "under_valuation",
            Label::OverValuation => "over_valuation",
            Label::WrongUnit => "wrong_unit",
            Label::PriceGouging => "price_gouging",
            Label::CurrencySlip => "currency_slip",
            Label::Duplicate => "duplicate",
            Label::VolumeSurge => "volume_surge",
            Label::FirstTimePrecursorImporter => "first_time_precursor_importer",
            Label::SeasonalPeak => "benign_seasonal_peak",
            Label::Reclassification => "benign_reclassification",
        }
    }

    /// Whether the label marks a known-benign event (its lines carry no line label).
    pub(crate) fn is_benign(self) -> bool {
        matches!(self, Label::SeasonalPeak | Label::Reclassification)
    }
}

/// The column a planted slip multiplied (realistic profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlipField {
    /// `customs_value`.
    CustomsValue,
    /// `quantity`.
    Quantity,
    /// `net_mass_kg`.
    NetMass,
}

impl SlipField {
    /// The column name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SlipField::CustomsValue => "customs_value",
            SlipField::Quantity => "quantity",
            SlipField::NetMass => "net_mass_kg",
        }
    }
}

/// What a planted anomaly did to a line: `field` was multiplied by `factor`
/// (realistic profile).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Slip {
    /// The multiplied column.
    pub field: SlipField,
    /// The multiplier (below 1 for an under-valuation).
    pub factor: f64,
}

/// A planted label on one line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LineLabel {
    /// Two-digit year of the declaration id.
    pub yy: u32,
    /// Sequence number of the declaration id.
    pub seq: u64,
    /// Line number.
    pub line_no: u32,
    /// Label.
    pub label: Label,
    /// What the anomaly changed, where it is a multiplier of one column (realistic
    /// profile; always `None` in the clean profile).
    pub slip: Option<Slip>,
}
