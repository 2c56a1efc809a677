//! The detectors: one per file (the surge detector, the largest, in a folder), a small
//! trait for price detectors, and the registry ([`DetectorKind`]).
//!
//! | id | name | judges | fires when |
//! |---|---|---|---|
//! | `P01` | `robust-z` | ln unit value of a line vs its comparison group | `|x - median| / (1.4826 * MAD)` > threshold (3.5) |
//! | `P02` | `iqr-fence` | ln unit value of a line vs its comparison group | x outside `[Q1 - k*IQR, Q3 + k*IQR]` (k = 3) |
//! | `P03` | `mass-per-unit` | ln kg per supplementary unit vs its group (kilogram lines: quantity vs net mass) | robust z > threshold (3.5), national-code groups only |
//! | `V01` | `surge` | amount per series and period vs its trailing window | robust z of the ln amount or the line count > threshold (5) and ratio to the median >= 3 (drops: <= 1/3) |
//! | `V02` | `first-time-importer` | importer x watch family | first line of the importer in the family, after the burn-in |
//! | `V03` | `new-origin` | watched HS6 x origin | first line of the origin for the HS6, after the burn-in |
//! | `V04` | `split-shipment` | lines just under a configured threshold | at least 3 such lines of one importer and HS6 in a day, adding up to the threshold |
//!
//! Price detectors (`P..`) implement [`Detector`] and judge one line against its
//! comparison group ([`price`] fills their findings); volume detectors (`V..`) judge the
//! series of a panel ([`series`] is what their findings share). Every detector's score
//! is in the same unit, an estimate of standard deviations ([`scale`]), so findings of
//! different detectors rank on one scale.
//!
//! **Adding a detector**: its file here (user docs, parameters, rule, finding), a line
//! in each `match` of [`DetectorKind`], its config under [`DetectorConfigs`], and, for a
//! volume detector, its call in the volume stage (`run/volume.rs`).

mod first_time_importer;
mod iqr_fence;
mod mass_per_unit;
mod new_origin;
mod novelty;
pub mod price;
mod robust_z;
pub mod scale;
pub mod series;
mod split_shipment;
mod surge;

pub use first_time_importer::{collect_first_seen, first_time_findings};
pub use iqr_fence::{IqrFence, IqrFenceConfig};
pub use mass_per_unit::{MassPerUnit, MassPerUnitConfig};
pub use new_origin::judge_panel as judge_new_origin;
pub use novelty::{
    FirstSeen, NOVELTY_BASE_SCORE, Novelty, NoveltyConfig, novelty_passes, novelty_score,
};
pub use robust_z::{MadZero, RobustZ, RobustZConfig};
pub use scale::{IQR_TO_SIGMA, MAD_TO_SIGMA, MEAN_AD_TO_SIGMA, robust_sigma};
pub use split_shipment::{
    SplitShipment, SplitShipmentConfig, SplitWindow, ThresholdSpec, split_score,
};
pub use surge::{
    ActiveCell, NotJudged, Series, SeriesFlag, Surge, SurgeBasis, SurgeConfig, SurgeCounts,
    SurgeScratch, SurgeWork, panel_context,
};

use serde::{Deserialize, Serialize};

use crate::baseline::{FineKey, GroupLevel};
use crate::error::{Error, Result};
use crate::kernels::order_stats::OrderStats;

/// Which per-line measure (and therefore which baseline) a detector judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    /// ln(customs value / denominator).
    UnitValue,
    /// ln(net mass kg / quantity), lines with a non-mass unit only.
    KgPerUnit,
}

/// Which side of the baseline a finding lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Below the baseline (under-valuation for unit values).
    Low,
    /// Above the baseline (over-valuation, gouging).
    High,
}

impl Direction {
    /// `low` or `high`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Low => "low",
            Direction::High => "high",
        }
    }

    /// The side of `x` relative to `center`.
    pub fn of(x: f64, center: f64) -> Direction {
        if x < center {
            Direction::Low
        } else {
            Direction::High
        }
    }
}

/// A detector's verdict on one line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Judgement {
    /// The line is anomalous.
    Flag {
        /// Distance from the baseline in standard-deviation equivalents (> 0, finite),
        /// calibrated for the group's size ([`crate::kernels::tail`]).
        score: f64,
        /// The statistic before calibration (the robust z).
        raw: f64,
        /// Which side.
        direction: Direction,
    },
    /// Within the baseline.
    Pass,
    /// The group has no spread to judge against (every value equal).
    NoSpread,
}

/// A price detector.
pub trait Detector: Send + Sync {
    /// Which registry entry this is.
    fn kind(&self) -> DetectorKind;
    /// Which measure it judges.
    fn measure(&self) -> Measure;
    /// Judge value `x` (on the ln scale) against its group's statistics.
    fn judge(&self, x: f64, stats: &OrderStats) -> Judgement;
    /// Whether some group of this fallback level may be a fair comparison for this
    /// detector (default: every level). A level no detector of a measure accepts ends
    /// that measure's fallback chain.
    fn accepts_level(&self, _level: &GroupLevel) -> bool {
        true
    }
    /// Whether this group (its level and key) is a fair comparison for this detector
    /// (default: [`Detector::accepts_level`]).
    fn accepts_group(&self, level: &GroupLevel, _key: &FineKey) -> bool {
        self.accepts_level(level)
    }
    /// A fixed reference that lines of fine key `key` are judged against instead of a
    /// comparison group (default: none). Its `count` is 0: it is exact, not estimated.
    fn reference(&self, _key: &FineKey) -> Option<OrderStats> {
        None
    }
}

/// The registry: every detector tradescan has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DetectorKind {
    /// [`RobustZ`].
    RobustZ,
    /// [`IqrFence`].
    IqrFence,
    /// [`MassPerUnit`].
    MassPerUnit,
    /// [`Surge`]: surges and drops of volume series.
    Surge,
    /// First line of an importer in a watch family.
    FirstTimeImporter,
    /// First line of an origin for a watched HS6.
    NewOrigin,
    /// Lines just under a threshold, split from one consignment.
    SplitShipment,
}

impl DetectorKind {
    /// Every detector, in registry order.
    pub const ALL: [DetectorKind; 7] = [
        DetectorKind::RobustZ,
        DetectorKind::IqrFence,
        DetectorKind::MassPerUnit,
        DetectorKind::Surge,
        DetectorKind::FirstTimeImporter,
        DetectorKind::NewOrigin,
        DetectorKind::SplitShipment,
    ];

    /// Whether the detector judges volume series (not single lines' prices).
    pub fn is_volume(self) -> bool {
        matches!(
            self,
            DetectorKind::Surge
                | DetectorKind::FirstTimeImporter
                | DetectorKind::NewOrigin
                | DetectorKind::SplitShipment
        )
    }

    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            DetectorKind::RobustZ => "P01",
            DetectorKind::IqrFence => "P02",
            DetectorKind::MassPerUnit => "P03",
            DetectorKind::Surge => "V01",
            DetectorKind::FirstTimeImporter => "V02",
            DetectorKind::NewOrigin => "V03",
            DetectorKind::SplitShipment => "V04",
        }
    }

    /// Stable kebab-case name used in flags, config and output.
    pub fn name(self) -> &'static str {
        match self {
            DetectorKind::RobustZ => "robust-z",
            DetectorKind::IqrFence => "iqr-fence",
            DetectorKind::MassPerUnit => "mass-per-unit",
            DetectorKind::Surge => "surge",
            DetectorKind::FirstTimeImporter => "first-time-importer",
            DetectorKind::NewOrigin => "new-origin",
            DetectorKind::SplitShipment => "split-shipment",
        }
    }

    /// One-line description for listings.
    pub fn summary(self) -> &'static str {
        match self {
            DetectorKind::RobustZ => {
                "unit value far from its group's median, in robust standard deviations"
            }
            DetectorKind::IqrFence => "unit value outside its group's interquartile fences",
            DetectorKind::MassPerUnit => {
                "kg per supplementary unit far from its group's: quantity in the wrong unit"
            }
            DetectorKind::Surge => {
                "a period's volume far above (or below) its series' trailing median"
            }
            DetectorKind::FirstTimeImporter => {
                "an importer's first line in a watched family, after the burn-in"
            }
            DetectorKind::NewOrigin => "a watched HS6 from an origin never seen before",
            DetectorKind::SplitShipment => {
                "many lines of one importer just under a configured threshold"
            }
        }
    }

    /// Look a detector up by name or id.
    pub fn from_name(name: &str) -> Result<DetectorKind> {
        DetectorKind::ALL
            .into_iter()
            .find(|d| d.name() == name || d.id() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = DetectorKind::ALL.iter().map(|d| d.name()).collect();
                Error::config(format!(
                    "unknown detector `{name}`; known: {}",
                    known.join(", ")
                ))
            })
    }

    /// Build a price detector with its configured parameters (`None` for volume
    /// detectors, which [`crate::volume`] runs).
    pub fn price_detector(self, configs: &DetectorConfigs) -> Option<Box<dyn Detector>> {
        match self {
            DetectorKind::RobustZ => Some(Box::new(RobustZ::new(configs.robust_z.clone()))),
            DetectorKind::IqrFence => Some(Box::new(IqrFence::new(configs.iqr_fence.clone()))),
            DetectorKind::MassPerUnit => {
                Some(Box::new(MassPerUnit::new(configs.mass_per_unit.clone())))
            }
            _ => None,
        }
    }
}

/// Per-detector parameters (`[detectors.<name>]` in the config file).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfigs {
    /// `[detectors.robust-z]`.
    #[serde(rename = "robust-z")]
    pub robust_z: RobustZConfig,
    /// `[detectors.iqr-fence]`.
    #[serde(rename = "iqr-fence")]
    pub iqr_fence: IqrFenceConfig,
    /// `[detectors.mass-per-unit]`.
    #[serde(rename = "mass-per-unit")]
    pub mass_per_unit: MassPerUnitConfig,
    /// `[detectors.surge]`.
    pub surge: SurgeConfig,
    /// `[detectors.first-time-importer]`.
    #[serde(rename = "first-time-importer")]
    pub first_time_importer: NoveltyConfig,
    /// `[detectors.new-origin]`.
    #[serde(rename = "new-origin")]
    pub new_origin: NoveltyConfig,
    /// `[detectors.split-shipment]`.
    #[serde(rename = "split-shipment")]
    pub split_shipment: SplitShipmentConfig,
}

impl DetectorConfigs {
    /// Check every parameter.
    pub fn validate(&self) -> Result<()> {
        positive("detectors.robust-z.threshold", self.robust_z.threshold)?;
        positive("detectors.iqr-fence.k", self.iqr_fence.k)?;
        positive("detectors.iqr-fence.min_score", self.iqr_fence.min_score)?;
        positive(
            "detectors.mass-per-unit.threshold",
            self.mass_per_unit.threshold,
        )?;
        positive(
            "detectors.mass-per-unit.min_spread",
            self.mass_per_unit.min_spread,
        )?;
        self.surge.validate()?;
        self.first_time_importer.validate("first-time-importer")?;
        self.new_origin.validate("new-origin")?;
        self.split_shipment.validate()?;
        Ok(())
    }
}

fn positive(name: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::config(format!(
            "{name} must be a positive number, got {v}"
        )))
    }
}
