//! Settings: the configuration resolved once, when the engine is built, into the types
//! the stages read. A stage takes the part it needs ([`PriceSettings`],
//! [`VolumeSettings`], [`FitSettings`]), never the whole [`Config`], and nothing is
//! parsed again during a run.

use crate::baseline::GroupLevel;
use crate::config::{Config, Denominator, SelectionConfig};
use crate::detect::{Detector, DetectorKind, Measure, Novelty, SplitShipment, Surge};
use crate::error::Result;
use crate::kernels::tiers::TierRule;
use crate::schema::ColumnMapping;
use crate::series::cells::CellOptions;
use crate::series::{CellDims, PeriodKind, SeriesKind, VolumeMeasure};
use crate::watch::WatchIndex;

/// Every resolved setting of a run.
pub struct Settings {
    /// The user's column names.
    pub mapping: ColumnMapping,
    /// Acceptance-date window (days since 1970-01-01), inclusive.
    pub window: (Option<i32>, Option<i32>),
    /// Rows per record batch.
    pub batch_size: usize,
    /// Leave out unreadable input files instead of failing.
    pub keep_going: bool,
    /// The price pass.
    pub price: PriceSettings,
    /// The volume pass; `None` when no volume detector is selected.
    pub volume: Option<VolumeSettings>,
    /// Budget and random audit.
    pub selection: SelectionConfig,
    /// What `tradescan fit` needs.
    pub fit: FitSettings,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("window", &self.window)
            .field("levels", &self.price.levels)
            .field("price_detectors", &self.price.kinds)
            .field("volume", &self.volume)
            .finish_non_exhaustive()
    }
}

/// The price pass: fallback chain, detectors, group sizes.
pub struct PriceSettings {
    /// Fallback chain, most specific level first.
    pub levels: Vec<GroupLevel>,
    /// Selected price detectors, in registry order.
    pub kinds: Vec<DetectorKind>,
    /// The same detectors, built with their parameters.
    pub detectors: Vec<Box<dyn Detector>>,
    /// Smallest group a line is judged against.
    pub min_group_size: usize,
    /// Smallest group of the fallback check (0: off).
    pub local_min_group_size: usize,
    /// Unit-value denominator rule.
    pub denominator: Denominator,
    /// How unit-value groups are fitted for price tiers (`None`: not fitted).
    pub tiers: Option<TierRule>,
    /// With `--watch`: the selected families' mask (0: every line is judged).
    pub restrict: u64,
}

impl PriceSettings {
    /// Whether a detector judges kg per unit (the measure pass then computes it).
    pub fn needs_kg_per_unit(&self) -> bool {
        self.detectors
            .iter()
            .any(|d| d.measure() == Measure::KgPerUnit)
    }

    /// The part of the chain a measure's detectors all accept: it stops at the first
    /// level one of them does not (mass-per-unit: national-code levels only), so no
    /// statistics are computed for groups nobody judges.
    pub fn chain(&self, m: Measure) -> &[GroupLevel] {
        let judges = |l: &GroupLevel| {
            self.detectors
                .iter()
                .filter(|d| d.measure() == m)
                .all(|d| d.accepts_level(l))
        };
        &self.levels[..self.levels.iter().take_while(|l| judges(l)).count()]
    }
}

/// The volume pass: how series are cut, and the selected volume detectors.
#[derive(Debug, Clone)]
pub struct VolumeSettings {
    /// Period cut, measure, series kinds and plausible dates.
    pub series: SeriesSettings,
    /// Selected volume detectors.
    pub detectors: Vec<DetectorKind>,
    /// `surge`, when selected.
    pub surge: Option<Surge>,
    /// `first-time-importer`, when selected.
    pub first_time: Option<Novelty>,
    /// `new-origin`, when selected.
    pub new_origin: Option<Novelty>,
    /// `split-shipment`, when selected (its thresholds may be empty).
    pub split: Option<SplitShipment>,
    /// With `--watch`: the selected families (0: everything is judged).
    pub restrict: u64,
    /// Fold one event's findings into one item.
    pub fold_events: bool,
}

impl VolumeSettings {
    /// The options of the per-unit aggregation, for a date window.
    pub fn cell_options(&self, window: (Option<i32>, Option<i32>)) -> CellOptions {
        let (split, split_band) = match &self.split {
            Some(s) => (s.thresholds.clone(), s.band),
            None => (Vec::new(), 0.0),
        };
        CellOptions {
            period: self.series.period,
            measure: self.series.measure,
            split,
            split_band,
            window,
            plausible: self.series.plausible,
            dims: CellDims {
                importer: self.series.kinds.contains(&SeriesKind::Importer)
                    || self.first_time.is_some()
                    || self.split.is_some(),
                origin: self.series.kinds.contains(&SeriesKind::Origin)
                    || self.new_origin.is_some(),
                office: self.series.kinds.contains(&SeriesKind::Office),
            },
        }
    }
}

/// How volume series are cut (also what a stored baseline's series depend on).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSettings {
    /// Period cut.
    pub period: PeriodKind,
    /// Amount measure.
    pub measure: VolumeMeasure,
    /// Series kinds built.
    pub kinds: Vec<SeriesKind>,
    /// Dates a series can hold (days since 1970-01-01).
    pub plausible: (i32, i32),
}

/// What `tradescan fit` needs: the series cut, the surge parameters its stored panel
/// spreads depend on, and the text of the settings a stored baseline records.
#[derive(Debug, Clone)]
pub struct FitSettings {
    /// Fallback chain of the stored groups.
    pub levels: Vec<GroupLevel>,
    /// How the stored unit-value groups are fitted for price tiers.
    pub tiers: Option<TierRule>,
    /// Unit-value denominator rule.
    pub denominator: Denominator,
    /// Rows per record batch.
    pub batch_size: usize,
    /// How series are cut.
    pub series: SeriesSettings,
    /// The surge detector as configured (selected or not).
    pub surge: Surge,
    /// `baseline.json`'s `settings`: a baseline fitted with other ones is refused.
    pub recorded: String,
}

impl Settings {
    /// Resolve `config` (already validated) against the watch families in force.
    pub fn resolve(config: &Config, watch: &WatchIndex) -> Result<Settings> {
        let levels = config.levels()?;
        let kinds = config.detector_kinds()?;
        let restrict = watch.mask_of_names(&config.watch.only, "watch.only")?;
        let detectors = kinds
            .iter()
            .filter_map(|k| k.price_detector(&config.detectors))
            .collect();
        let v = &config.volume;
        let series = SeriesSettings {
            period: v.period,
            measure: v.measure,
            kinds: v.series_kinds()?,
            plausible: v.plausible_days()?,
        };
        let surge = Surge::new(&config.detectors.surge, v.period);
        let level_names: Vec<String> = levels.iter().map(|l| l.name()).collect();
        let kind_names: Vec<&str> = series.kinds.iter().map(|k| k.name()).collect();
        let recorded = format!(
            "denominator = {:?}\nperiod = {:?}\nmeasure = {:?}\nlevels = {:?}\n\
             series = {:?}\nsurge_min_nonzero = {}\nplausible_dates = {:?}\ntiers = {:?}\n",
            config.price.denominator,
            v.period,
            v.measure,
            level_names,
            kind_names,
            surge.min_nonzero(),
            v.plausible_dates,
            config.price.tiers.rule()
        );
        let volume = VolumeSettings::resolve(config, watch, &series, restrict)?;
        let fit_levels = levels.clone();
        Ok(Settings {
            mapping: config.mapping()?,
            window: config.date_window()?,
            batch_size: config.scan.batch_size,
            keep_going: config.scan.keep_going,
            price: PriceSettings {
                levels,
                kinds,
                detectors,
                min_group_size: config.price.min_group_size,
                local_min_group_size: config.price.local_min_group_size,
                denominator: config.price.denominator,
                tiers: config.price.tiers.rule(),
                restrict,
            },
            volume,
            selection: config.selection.clone(),
            fit: FitSettings {
                levels: fit_levels,
                tiers: config.price.tiers.rule(),
                denominator: config.price.denominator,
                batch_size: config.scan.batch_size,
                series,
                surge,
                recorded,
            },
        })
    }
}

impl VolumeSettings {
    /// The volume settings of `config`; `None` when no volume detector is selected.
    fn resolve(
        config: &Config,
        watch: &WatchIndex,
        series: &SeriesSettings,
        restrict: u64,
    ) -> Result<Option<VolumeSettings>> {
        let detectors = config.volume_detector_kinds()?;
        if detectors.is_empty() {
            return Ok(None);
        }
        let d = &config.detectors;
        let on = |k: DetectorKind| detectors.contains(&k);
        let novelty = |k: DetectorKind, c| -> Result<Option<Novelty>> {
            on(k)
                .then(|| Novelty::resolve(k, c, watch, series.period))
                .transpose()
        };
        Ok(Some(VolumeSettings {
            series: series.clone(),
            surge: on(DetectorKind::Surge).then(|| Surge::new(&d.surge, series.period)),
            first_time: novelty(DetectorKind::FirstTimeImporter, &d.first_time_importer)?,
            new_origin: novelty(DetectorKind::NewOrigin, &d.new_origin)?,
            split: on(DetectorKind::SplitShipment)
                .then(|| SplitShipment::resolve(&d.split_shipment))
                .transpose()?,
            restrict,
            detectors,
            fold_events: config.volume.fold_events,
        }))
    }
}
