//! Run configuration: the TOML file (`--config FILE`) and its defaults.
//!
//! ```toml
//! [columns]                 # canonical name = the user's column name
//! declaration_id = "DECL_NO"
//! hs_code = "TARIC_CODE"
//!
//! [scan]
//! threads = 0               # 0 = all cores
//! batch_size = 65536
//! from = "2025-01-01"       # inclusive acceptance-date window (optional)
//! to = "2025-12-31"
//!
//! [price]
//! min_group_size = 30
//! local_min_group_size = 3
//! levels = ["hs+origin+unit", "hs6+origin+unit", "hs6+unit", "hs4+unit"]
//! denominator = "auto"      # auto | quantity | net-mass
//! detectors = ["robust-z", "iqr-fence", "mass-per-unit"]
//!
//! [price.tiers]             # several price populations in one group
//! enabled = true
//! min_lines = 10
//!
//! [detectors.robust-z]
//! threshold = 3.5
//!
//! [volume]
//! period = "week"           # week | month
//! measure = "quantity"      # quantity | net-mass | value | lines
//! keys = ["hs6+importer", "hs6+origin", "hs6+office", "hs6"]
//! detectors = ["surge", "first-time-importer", "new-origin", "split-shipment"]
//!
//! [detectors.surge]
//! window = 26               # trailing periods
//!
//! [[detectors.split-shipment.thresholds]]
//! hs = "310230"
//! amount = 1000.0
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::baseline::GroupLevel;
use crate::detect::{DetectorConfigs, DetectorKind};
use crate::error::{Error, Result};
use crate::kernels::tiers::TierRule;
pub use crate::kernels::unit_value::Denominator;
use crate::schema::{CANONICAL_COLUMNS, ColumnMapping};
use crate::series::{PeriodKind, SeriesKind, VolumeMeasure};

/// The whole run configuration. Every field has a documented default.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Canonical column name -> the user's column name.
    pub columns: BTreeMap<String, String>,
    /// Scan options.
    pub scan: ScanConfig,
    /// Price-anomaly options.
    pub price: PriceConfig,
    /// Volume-anomaly options.
    pub volume: VolumeConfig,
    /// Watch families: users' lists and a restriction.
    pub watch: WatchConfig,
    /// Inspection budget and random audit.
    pub selection: SelectionConfig,
    /// Per-detector parameters, keyed by detector name.
    pub detectors: DetectorConfigs,
}

/// How the input is read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Rows per decoded record batch.
    pub batch_size: usize,
    /// First acceptance date to include (`YYYY-MM-DD`, inclusive).
    pub from: Option<String>,
    /// Last acceptance date to include (`YYYY-MM-DD`, inclusive).
    pub to: Option<String>,
    /// Leave out unreadable or corrupt input files (listed in the run record) instead
    /// of failing the run.
    pub keep_going: bool,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            threads: 0,
            batch_size: 65_536,
            from: None,
            to: None,
            keep_going: false,
        }
    }
}

/// `[selection]`: which findings a run keeps (`--budget`, `--random-audit`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SelectionConfig {
    /// Keep the findings of the `budget` highest-risk items (lines or series); 0 keeps
    /// everything.
    pub budget: usize,
    /// Apply the budget per value of this field (`office`), not overall.
    pub budget_per: Option<BudgetPer>,
    /// Share of the lines without a finding drawn at random and reported as
    /// `random-audit` (0 to 1).
    pub random_audit: f64,
    /// Seed of the random audit.
    pub seed: u64,
}

/// What a per-group budget is split by.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum BudgetPer {
    /// The customs office of the line (or of the series).
    Office,
}

/// `[watch]`: watch families beyond the shipped ones, and a restriction.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WatchConfig {
    /// Users' lists: CSV files with the columns `family`, `hs_prefix` (and optionally
    /// `description`). Relative paths are relative to the config file.
    pub lists: Vec<PathBuf>,
    /// Judge only lines and series in these families (`--watch`); empty: everything.
    /// Other lines still count in the comparison groups.
    pub only: Vec<String>,
}

/// Options of the price-anomaly pass.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PriceConfig {
    /// A comparison group is used only when it has at least this many lines.
    pub min_group_size: usize,
    /// Fallback chain of comparison levels, most specific first.
    pub levels: Vec<String>,
    /// Fallback check: a line judged at a fallback level is flagged only if it is also
    /// far (same detector, same spread) from the median of its most specific group with
    /// at least this many lines. 0 turns the check off.
    pub local_min_group_size: usize,
    /// Which denominator unit values use.
    pub denominator: Denominator,
    /// Detectors to run, by name.
    pub detectors: Vec<String>,
    /// Price tiers: lines of a group with several price populations are judged
    /// against their own.
    pub tiers: TierConfig,
}

/// `[price.tiers]`: how groups with several price populations (grades, brands under
/// one code) are found ([`crate::kernels::tiers`]). Unit values only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TierConfig {
    /// Fit tiers (default true).
    pub enabled: bool,
    /// Fewest lines of a tier (default 10).
    pub min_lines: usize,
    /// Smallest share of the group's lines in a tier (default 0.1). Also how much of a
    /// group a run of anomalies must hold to pass as a tier: price gouging of 30% of a
    /// code's lines in an 8-week crisis (4.6% of a year's lines) stays below.
    pub min_share: f64,
    /// How far apart neighbouring tiers' medians must be, in sums of their robust
    /// standard deviations (default 2, raised for small tiers).
    pub separation: f64,
    /// Share of the values left out at each end when placing a split (default 0.025).
    pub trim: f64,
    /// Most tiers in a group (default 3).
    pub max_tiers: usize,
}

impl Default for TierConfig {
    fn default() -> Self {
        let r = TierRule::default();
        TierConfig {
            enabled: true,
            min_lines: r.min_lines,
            min_share: r.min_share,
            separation: r.separation,
            trim: r.trim,
            max_tiers: r.max_tiers,
        }
    }
}

impl TierConfig {
    /// The kernel's rule, when tiers are fitted.
    pub fn rule(&self) -> Option<TierRule> {
        self.enabled.then_some(TierRule {
            min_lines: self.min_lines,
            min_share: self.min_share,
            separation: self.separation,
            trim: self.trim,
            max_tiers: self.max_tiers,
        })
    }

    fn validate(&self) -> Result<()> {
        let ok = self.min_lines >= 2
            && self.min_share > 0.0
            && self.min_share < 0.5
            && self.separation.is_finite()
            && self.separation > 0.0
            && (0.0..0.25).contains(&self.trim)
            && (2..=16).contains(&self.max_tiers);
        if ok {
            Ok(())
        } else {
            Err(Error::config(format!(
                "price.tiers: min_lines must be at least 2, min_share in (0, 0.5), \
                 separation positive, trim in [0, 0.25) and max_tiers 2 to 16; got {self:?}"
            )))
        }
    }
}

impl Default for PriceConfig {
    fn default() -> Self {
        PriceConfig {
            min_group_size: 30,
            local_min_group_size: 3,
            levels: GroupLevel::default_chain()
                .iter()
                .map(|l| l.name())
                .collect(),
            denominator: Denominator::Auto,
            detectors: DetectorKind::ALL
                .iter()
                .filter(|d| !d.is_volume())
                .map(|d| d.name().to_string())
                .collect(),
            tiers: TierConfig::default(),
        }
    }
}

/// `[volume]`: what the series measure and how they are cut.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VolumeConfig {
    /// `week` (ISO weeks, Monday first) or `month`.
    pub period: PeriodKind,
    /// What the surge detector and the thresholds measure.
    pub measure: VolumeMeasure,
    /// Series keys, from `hs6+importer`, `hs6+origin`, `hs6+office`, `hs6`.
    pub keys: Vec<String>,
    /// Volume detectors to run, by name.
    pub detectors: Vec<String>,
    /// Acceptance dates a series can hold (`[first, last]`, `YYYY-MM-DD`); a line dated
    /// outside is counted (`volume.lines_skipped.date_out_of_range`) and left out of
    /// the series, so that one mistyped year cannot stretch every series over
    /// centuries. Price detectors do not read the date and still judge the line.
    pub plausible_dates: [String; 2],
    /// Fold the findings one event shows in several series (and a line's) into one
    /// item (`run::events`); off, every flagged series is its own finding.
    pub fold_events: bool,
}

impl Default for VolumeConfig {
    fn default() -> Self {
        VolumeConfig {
            period: PeriodKind::Week,
            measure: VolumeMeasure::Quantity,
            keys: SeriesKind::ALL
                .iter()
                .map(|k| k.name().to_string())
                .collect(),
            detectors: DetectorKind::ALL
                .iter()
                .filter(|d| d.is_volume())
                .map(|d| d.name().to_string())
                .collect(),
            plausible_dates: ["1990-01-01".into(), "2099-12-31".into()],
            fold_events: true,
        }
    }
}

impl VolumeConfig {
    /// [`VolumeConfig::plausible_dates`] as days since 1970-01-01.
    pub fn plausible_days(&self) -> Result<(i32, i32)> {
        let day = |s: &str| {
            crate::kernels::dates::parse_ymd(s).ok_or_else(|| {
                Error::config(format!(
                    "volume.plausible_dates: `{s}` is not a date (YYYY-MM-DD)"
                ))
            })
        };
        let (first, last) = (
            day(&self.plausible_dates[0])?,
            day(&self.plausible_dates[1])?,
        );
        if first > last {
            return Err(Error::config(
                "volume.plausible_dates: the first date is after the last",
            ));
        }
        Ok((first, last))
    }

    /// The parsed series keys, in [`SeriesKind::ALL`] order, without duplicates.
    pub fn series_kinds(&self) -> Result<Vec<SeriesKind>> {
        let mut kinds = Vec::new();
        for name in &self.keys {
            let kind = SeriesKind::parse(name)?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        kinds.sort();
        Ok(kinds)
    }
}

impl Config {
    /// Read and validate a TOML config file.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut config = Self::from_toml(&text).map_err(|e| match e {
            Error::Config { message, .. } => Error::Config {
                path: Some(path.to_path_buf()),
                message,
            },
            other => other,
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        for list in &mut config.watch.lists {
            if list.is_relative() {
                *list = base.join(&*list);
            }
        }
        Ok(config)
    }

    /// Parse and validate TOML text.
    pub fn from_toml(text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| Error::config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Check every value; called by the parsers and before a run.
    pub fn validate(&self) -> Result<()> {
        self.mapping()?;
        if self.scan.batch_size == 0 {
            return Err(Error::config("scan.batch_size must be at least 1"));
        }
        self.date_window()?;
        if self.price.min_group_size == 0 {
            return Err(Error::config("price.min_group_size must be at least 1"));
        }
        self.levels()?;
        self.price.tiers.validate()?;
        self.detector_kinds()?;
        let volume = self.volume_detector_kinds()?;
        self.volume.series_kinds()?;
        self.detectors.validate()?;
        let rate = self.selection.random_audit;
        if !(rate.is_finite() && (0.0..=1.0).contains(&rate)) {
            return Err(Error::config(format!(
                "selection.random_audit (--random-audit) must be between 0 and 1, got {rate}"
            )));
        }
        if volume.contains(&DetectorKind::SplitShipment)
            && self.volume.measure == VolumeMeasure::Lines
            && !self.detectors.split_shipment.thresholds.is_empty()
        {
            return Err(Error::config(
                "split-shipment thresholds need an amount: set volume.measure to quantity, \
                 net-mass or value",
            ));
        }
        Ok(())
    }

    /// The column mapping, defaults filled in.
    pub fn mapping(&self) -> Result<ColumnMapping> {
        for key in self.columns.keys() {
            if !CANONICAL_COLUMNS.iter().any(|c| c.name == key) {
                let names: Vec<&str> = CANONICAL_COLUMNS.iter().map(|c| c.name).collect();
                return Err(Error::config(format!(
                    "[columns]: unknown canonical column `{key}`; known: {}",
                    names.join(", ")
                )));
            }
        }
        Ok(ColumnMapping::new(&self.columns))
    }

    /// The parsed fallback chain.
    pub fn levels(&self) -> Result<Vec<GroupLevel>> {
        if self.price.levels.is_empty() {
            return Err(Error::config("price.levels must name at least one level"));
        }
        self.price
            .levels
            .iter()
            .map(|s| GroupLevel::parse(s))
            .collect()
    }

    /// The selected price detectors, in registry order, without duplicates.
    pub fn detector_kinds(&self) -> Result<Vec<DetectorKind>> {
        kinds_of("price", &self.price.detectors, false)
    }

    /// The selected volume detectors, in registry order, without duplicates.
    pub fn volume_detector_kinds(&self) -> Result<Vec<DetectorKind>> {
        kinds_of("volume", &self.volume.detectors, true)
    }

    /// Select detectors by name, price and volume alike (the `--detectors` flag): each
    /// list keeps the names of its kind.
    pub fn select_detectors(&mut self, names: &[String]) -> Result<()> {
        let mut price = Vec::new();
        let mut volume = Vec::new();
        for name in names {
            let kind = DetectorKind::from_name(name)?;
            let list = if kind.is_volume() {
                &mut volume
            } else {
                &mut price
            };
            list.push(kind.name().to_string());
        }
        self.price.detectors = price;
        self.volume.detectors = volume;
        Ok(())
    }

    /// The acceptance-date window as days since 1970-01-01, inclusive.
    pub fn date_window(&self) -> Result<(Option<i32>, Option<i32>)> {
        let parse = |field: &str, v: &Option<String>| -> Result<Option<i32>> {
            v.as_deref()
                .map(|s| {
                    crate::kernels::dates::parse_ymd(s).ok_or_else(|| {
                        Error::config(format!("scan.{field}: `{s}` is not a date (YYYY-MM-DD)"))
                    })
                })
                .transpose()
        };
        let from = parse("from", &self.scan.from)?;
        let to = parse("to", &self.scan.to)?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(Error::config("scan.from is after scan.to"));
        }
        Ok((from, to))
    }

    /// Canonical TOML of the resolved configuration.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// The configuration as the run record shows and hashes it: without the settings
    /// that cannot change results (threads, batch size; recorded under `execution`).
    pub fn recorded_toml(&self) -> String {
        let mut c = self.clone();
        c.scan.threads = ScanConfig::default().threads;
        c.scan.batch_size = ScanConfig::default().batch_size;
        c.to_toml()
    }
}

fn kinds_of(section: &str, names: &[String], volume: bool) -> Result<Vec<DetectorKind>> {
    let mut kinds = Vec::new();
    for name in names {
        let kind = DetectorKind::from_name(name)?;
        if kind.is_volume() != volume {
            let other = if volume { "price" } else { "volume" };
            return Err(Error::config(format!(
                "{section}.detectors: `{name}` is a {other} detector; list it under [{other}] \
                 detectors"
            )));
        }
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds.sort();
    Ok(kinds)
}
