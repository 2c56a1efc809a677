//! Volume series: time series of quantity (and value, and line count) per key and
//! period, the data the volume detectors judge.
//!
//! Series keys (`[volume] keys`): `hs6+importer`, `hs6+origin`, `hs6+office` and `hs6`
//! alone. Periods (`[volume] period`): ISO weeks starting on Monday (default) or
//! calendar months. A series' periods are the calendar range of the scanned lines
//! (first to last acceptance date, in the date window): a period without a line is a
//! zero, not a gap.
//!
//! How it is built: the measure pass of the scan (the same partition-parallel read as
//! the price baselines) also aggregates each unit's lines into cells keyed by (HS6,
//! importer, origin, office, period) ([`cells`]); the cells are merged in unit order
//! into shards by HS6, so each HS6 and everything under it is analysed by one worker
//! (the volume stage, `run/volume.rs`), with each key kind projected into series
//! ([`entries`]) and laid out as a panel of series x periods, dense (`ndarray`) where
//! at least a quarter of the cells are non-zero and sparse otherwise ([`panel`]), over
//! the run's period grid ([`grid`]). A stored baseline's series are in
//! [`crate::store::series`]. The detectors are in [`crate::detect`]: `surge` (V01),
//! `first-time-importer` (V02), `new-origin` (V03), `split-shipment` (V04).
//!
//! Lines without an acceptance date or with an HS code of fewer than 6 digits cannot be
//! placed in a series and are counted (`volume.lines_skipped`); lines whose measure is
//! missing or negative count as lines with a zero amount (`volume.lines_without_measure`).

pub mod cells;
pub mod entries;
pub mod grid;
pub mod panel;
mod period;
pub mod symbols;

pub use cells::{CellAgg, CellKey, UnitCells};
pub use period::{PeriodKind, period_end, period_id, period_start};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The amount a volume series adds up.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum VolumeMeasure {
    /// Quantity in the supplementary unit (the declared `quantity`).
    #[default]
    Quantity,
    /// Net mass in kg.
    NetMass,
    /// Customs value.
    Value,
    /// Number of declaration lines.
    Lines,
}

impl VolumeMeasure {
    /// Name used in findings' `measure` column.
    pub fn name(self) -> &'static str {
        match self {
            VolumeMeasure::Quantity => "quantity",
            VolumeMeasure::NetMass => "net_mass_kg",
            VolumeMeasure::Value => "customs_value",
            VolumeMeasure::Lines => "lines",
        }
    }
}

/// Which key a series is cut by (all within one HS6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum SeriesKind {
    /// (HS6, importer).
    Importer,
    /// (HS6, origin).
    Origin,
    /// (HS6, customs office).
    Office,
    /// HS6 alone.
    Hs6,
}

impl SeriesKind {
    /// Every kind, in output order.
    pub const ALL: [SeriesKind; 4] = [
        SeriesKind::Importer,
        SeriesKind::Origin,
        SeriesKind::Office,
        SeriesKind::Hs6,
    ];

    /// Config name (`hs6+importer`, ...).
    pub fn name(self) -> &'static str {
        match self {
            SeriesKind::Importer => "hs6+importer",
            SeriesKind::Origin => "hs6+origin",
            SeriesKind::Office => "hs6+office",
            SeriesKind::Hs6 => "hs6",
        }
    }

    /// Value of the findings' `series_key` column (`hs6_importer`, ...).
    pub fn column_value(self) -> &'static str {
        match self {
            SeriesKind::Importer => "hs6_importer",
            SeriesKind::Origin => "hs6_origin",
            SeriesKind::Office => "hs6_office",
            SeriesKind::Hs6 => "hs6",
        }
    }

    /// Parse a config name (`hs6_importer` spellings accepted too).
    pub fn parse(s: &str) -> Result<SeriesKind> {
        SeriesKind::ALL
            .into_iter()
            .find(|k| k.name() == s || k.column_value() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = SeriesKind::ALL.iter().map(|k| k.name()).collect();
                Error::config(format!(
                    "volume.keys: unknown series key `{s}`; known: {}",
                    known.join(", ")
                ))
            })
    }
}

/// The key columns cells keep besides HS6 and period. A column not kept is not decoded
/// and reads as absent, so a scan of (HS6, importer) series alone aggregates lines
/// into fewer cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellDims {
    /// Importer ids.
    pub importer: bool,
    /// Origins.
    pub origin: bool,
    /// Customs offices.
    pub office: bool,
}

impl CellDims {
    /// Every column (a stored baseline keeps them all).
    pub const ALL: CellDims = CellDims {
        importer: true,
        origin: true,
        office: true,
    };
}
