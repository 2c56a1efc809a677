//! Seeded synthetic customs declarations with planted, labelled anomalies.
//!
//! [`generate`] writes `rows` declaration lines as hive-style monthly Parquet
//! partitions and the ground truth of what it planted:
//!
//! ```text
//! OUT/year=YYYY/month=MM/part-0.parquet   Snappy, row groups of `row_group_rows`
//! OUT/_labels/lines.csv                   declaration_id,line_no,label[,factor,field]
//! OUT/_labels/series.csv                  label,series_key,hs6,importer_id,origin,office,period,period_start
//! OUT/_labels/generator.json              config, catalogue sizes, crisis window, counts
//! ```
//!
//! # Profiles
//!
//! [`GeneratorConfig::profile`] chooses between two kinds of data:
//!
//! - [`Profile::Clean`] (the default, `tradescan generate --profile clean`): the data
//!   described in the rest of this page. Gaussian line noise, one price level per
//!   national code, price anomalies only on codes with at least 50 expected lines. Its
//!   output for a given seed never changes (a golden fingerprint test guards it), so
//!   results measured on it stay comparable.
//! - [`Profile::Realistic`] (`--profile realistic`): the same schema and the same
//!   world built from the nomenclature, but messier in the ways real declarations are:
//!   heavy-tailed prices, several price tiers inside a national code, codes of every
//!   size with anomalies in small ones too, kilogram lines whose quantity disagrees with
//!   the net mass, unit slips on every unit, rounded and bunched values, currency slips
//!   and duplicated lines. `lines.csv` gains two columns, `factor` and `field` (in
//!   this profile only: `[,factor,field]` above). Each property, its parameters and
//!   its source are documented in [`realistic`].
//!
//! Every file is written under a temporary name starting with `.` in its directory and
//! renamed into place, so a reader never sees a half-written file. Files of an earlier
//! run for months outside the configured range are not removed.
//!
//! # Schema
//!
//! | column | Arrow type | example |
//! |---|---|---|
//! | `declaration_id` | Utf8 | `D25-0001234567` (year, then sequence in date order) |
//! | `line_no` | Int32 | 1-based within the declaration |
//! | `date` | Date32 | acceptance date |
//! | `office` | Utf8 | `BE0101` (25 offices, Zipf) |
//! | `declarant_id` | Utf8 | `DC004711` (a broker) or the importer's own id |
//! | `importer_id` | Utf8 | `IM000123` (thousands, Zipf) |
//! | `origin` | Utf8 | ISO 3166 alpha-2 (60 countries, Zipf) |
//! | `hs_code` | Utf8 | national code, 8 or 10 digits, e.g. `0710800000` |
//! | `quantity` | Float64 | in the supplementary unit |
//! | `unit` | Utf8 | `KGM`, `NAR`, `PR`, `LTR`, `MTK`, `MTQ`, `GRM` |
//! | `net_mass_kg` | Float64 | equals `quantity` on KGM lines (clean profile) |
//! | `customs_value` | Float64 | rounded to cents |
//!
//! All columns are non-null.
//!
//! # Shape of the data
//!
//! This section and the next describe the clean profile; [`realistic`] lists what the
//! realistic profile changes.
//!
//! - **Catalogue**: 1,500 HS6 codes sampled from the HS 2022 nomenclature plus every
//!   watch-list HS6 present in it; each gets 1-4 national extensions (8 or 10 digits,
//!   `90` = "other" last). Popularity is Zipf-Mandelbrot (exponent 1.1, rank offset 10)
//!   over a random ranking, rescaled so the watch families take medical_supplies ~3%,
//!   medicines_vaccines ~2%, dual_use ~2%, ied_precursors ~0.6%, salw_ammunition
//!   ~0.15% of lines (a code in several families counts for each).
//! - **Units** by chapter: KGM by default; 61-62, 65 NAR, 63 mostly NAR, 64 PR; 84-85,
//!   87, 90-93, 95 mostly NAR; 22 LTR; 57 MTK; some wood headings MTQ; gold/silver/
//!   platinum GRM; 30% of chapter-30 codes NAR. Non-KGM codes have a log-normal mass
//!   per unit.
//! - **Prices**: ln unit value = chapter level + HS6 effect N(0, 1) + national offset
//!   N(0, 0.3) (+ ln mass per unit for non-KGM units) + origin offset N(0, 0.2) + line
//!   noise N(0, s), s uniform in [0.15, 0.35] per national code. `customs_value` =
//!   unit value x quantity (per kg for KGM lines). Quantities are log-normal per
//!   national code.
//! - **Declarations** have 1-8 lines (truncated geometric, p = 0.45) sharing date,
//!   office, declarant, importer and origin. The first line's code is drawn from the
//!   catalogue; the importer is, 90% of the time, one of that HS6's regular importers
//!   (a few to a few hundred per code, Zipf); later lines stay in the same HS6 half the
//!   time. Importers have 1-3 usual origins, a home office and a usual declarant.
//! - **Dates**: rows are split across months in proportion to weekday-weighted days
//!   times a seasonal profile (about +-20% between months); days are weekday-heavy
//!   (weekends ~5-10% of a weekday, a few public holidays).
//!
//! # Planted anomalies
//!
//! Labels are mutually exclusive per line. Line-level labels ([`LINE_LABEL_SHARES`],
//! shares of all lines):
//!
//! - `under_valuation` (~0.3%): customs value divided by a factor log-uniform in [6, 30].
//! - `over_valuation` (~0.2%): customs value multiplied by a factor log-uniform in [6, 30].
//! - `wrong_unit` (~0.2%, non-KGM lines only): quantity multiplied by 1000, value and
//!   mass unchanged.
//! - `price_gouging`: in the crisis window, 8 weeks from the first Monday on or after
//!   the 1st of the 4th month of the range (none if the range has fewer than 4 months),
//!   30% of `medical_supplies` lines are priced at a factor log-uniform in [6, 15]
//!   (~0.12% of all lines for a 12-month range).
//!
//! These are planted only on national codes expected to have at least 50 lines in the
//! data (`rows` x code share), so the code's own price distribution is there to detect
//! them against; the per-line probability is scaled up so the share of *all* lines
//! stays on target. Planted series lines never carry a line-level label.
//!
//! Series-level labels (one row each in `series.csv`, series key `hs6_importer`,
//! period `week`; every extra line they add is also in `lines.csv` with the same label):
//!
//! - `volume_surge`: about `rows / 100_000` (at least 3) (HS6, importer) pairs where the
//!   importer is a regular importer of the HS6 (expected >= 1 line a week when
//!   possible). In one ISO week (with at least 8 weeks of history when the range allows)
//!   the importer declares extra lines (3-40, normal prices) whose quantity adds up to
//!   9-29x its expected weekly quantity, so the week totals 10-30x its usual.
//! - `first_time_precursor_importer`: about `rows / 200_000` (at least 3) brand-new
//!   importer ids, never used anywhere else, declare an `ied_precursors` national code
//!   after the first 3 months of the range (in the last month if the range is shorter),
//!   in 1-2 declarations of one line in the same ISO week, each with a quantity 10-50x
//!   the code's median line quantity. The series row is the week of the first line.
//!
//! Series lines use at most 10% of all rows and 25% of any month's rows; events that do
//! not fit are skipped (tiny configurations may get fewer than 3).
//!
//! # Reproducibility
//!
//! The catalogue comes from ChaCha8 stream 1 of the seed, the series events from stream
//! 2, the realistic profile's per-code models from stream 3, and each month from its
//! own streams (2^32 + month index for line counts,
//! 2^33 + month index for contents); distributions are built on the raw `u64` stream
//! with `libm`. Months are generated in parallel with rayon, and the bytes do not depend
//! on the thread count or the machine.

use crate::calendar;
mod catalogue;
mod clean;
mod labels;
mod month;
mod output;
mod plan;
pub mod realistic;
mod rng;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rayon::prelude::*;

use self::catalogue::{Catalogue, Shape};
use self::labels::Label;
use self::month::{Ctx, MonthResult};
use self::realistic::{NoiseCounts, World};
use self::rng::{Rand, STREAM_CATALOGUE, STREAM_EVENTS};

/// Name of the ground-truth folder inside the output directory (ignored by the engine
/// because it starts with `_`).
pub const LABELS_DIR: &str = "_labels";

/// Planted line-level label shares: label name -> approximate fraction of all lines.
/// `price_gouging` is the share for a 12-month range (it is planted in an 8-week
/// window only).
pub const LINE_LABEL_SHARES: &[(&str, f64)] = &[
    ("under_valuation", 0.003),
    ("over_valuation", 0.002),
    ("wrong_unit", 0.002),
    ("price_gouging", 0.0012),
];

/// Share of eligible medical-supplies lines inside the crisis window that are gouged.
pub(crate) const PRICE_GOUGING_FRACTION: f64 = 0.3;
/// Parameter of the truncated geometric number of lines per declaration.
pub(crate) const LINES_PER_DECLARATION_P: f64 = 0.45;
/// Maximum lines per declaration.
pub(crate) const MAX_LINES_PER_DECLARATION: usize = 8;
/// Largest accepted row count (keeps declaration sequence numbers within 10 digits).
pub const MAX_ROWS: u64 = 2_000_000_000;
/// Largest accepted number of months (declaration ids carry a two-digit year).
pub const MAX_MONTHS: u32 = 600;
/// Largest accepted row-group size.
pub const MAX_ROW_GROUP_ROWS: usize = 10_000_000;

/// The documented share of a line label (0 for unknown names).
pub(crate) fn line_label_share(label: &str) -> f64 {
    LINE_LABEL_SHARES
        .iter()
        .find(|(k, _)| *k == label)
        .map_or(0.0, |(_, v)| *v)
}

/// Which kind of data [`generate`] writes (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// Gaussian noise, one price level per national code, anomalies on common codes
    /// only. The default; byte-identical output for a given seed across versions.
    #[default]
    Clean,
    /// Heavy tails, price tiers, sparse codes, unit and currency slips, rounding and
    /// duplicates: see [`realistic`].
    Realistic,
}

impl Profile {
    /// Every profile, default first.
    pub const ALL: [Profile; 2] = [Profile::Clean, Profile::Realistic];

    /// The profile's name on the command line and in `generator.json`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Clean => "clean",
            Profile::Realistic => "realistic",
        }
    }

    /// The line labels this profile plants, in report order.
    pub(crate) fn line_labels(self) -> &'static [Label] {
        match self {
            Profile::Clean => &Label::CLEAN,
            Profile::Realistic => &Label::ALL,
        }
    }

    /// Documented line label shares (label name -> approximate share of all lines).
    pub fn line_label_shares(self) -> &'static [(&'static str, f64)] {
        match self {
            Profile::Clean => LINE_LABEL_SHARES,
            Profile::Realistic => realistic::LINE_LABEL_SHARES,
        }
    }
}

impl FromStr for Profile {
    type Err = GenerateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                GenerateError::InvalidConfig(format!(
                    "unknown profile `{s}` (known: {})",
                    Profile::ALL.map(Profile::name).join(", ")
                ))
            })
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorConfig {
    /// Exact number of declaration lines written.
    pub rows: u64,
    /// Seed of every random stream.
    pub seed: u64,
    /// First year of the range.
    pub start_year: i32,
    /// First month of the range, 1..=12.
    pub start_month: u32,
    /// Number of months (one partition each).
    pub months: u32,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// Kind of data.
    pub profile: Profile,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            rows: 200_000,
            seed: 42,
            start_year: 2025,
            start_month: 1,
            months: 12,
            row_group_rows: 131_072,
            profile: Profile::Clean,
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateReport {
    /// Lines written.
    pub rows: u64,
    /// Parquet files written, sorted.
    pub files: Vec<PathBuf>,
    /// Label -> lines planted (every label, zero included).
    pub line_labels: BTreeMap<String, u64>,
    /// Label -> series planted (`volume_surge`, `first_time_precursor_importer`).
    pub series_labels: BTreeMap<String, u64>,
    /// Unlabelled realistic noise -> lines (or declarations) affected; empty for the
    /// clean profile.
    pub noise: BTreeMap<String, u64>,
}

/// Why [`generate`] failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The Parquet writer failed.
    #[error("Parquet error writing {path}: {source}")]
    Parquet {
        /// The file being written.
        path: PathBuf,
        /// The cause.
        source: parquet::errors::ParquetError,
    },
    /// Building an Arrow batch failed.
    #[error("Arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// The configuration cannot be generated.
    #[error("invalid generator configuration: {0}")]
    InvalidConfig(String),
}

/// Check a configuration.
fn validate(cfg: &GeneratorConfig) -> Result<(), GenerateError> {
    let bad = |m: String| Err(GenerateError::InvalidConfig(m));
    if !(1..=12).contains(&cfg.start_month) {
        return bad(format!(
            "start_month must be 1..=12, got {}",
            cfg.start_month
        ));
    }
    if !(1900..=9999).contains(&cfg.start_year) {
        return bad(format!(
            "start_year must be 1900..=9999, got {}",
            cfg.start_year
        ));
    }
    // Declaration ids carry a two-digit year: keep the range under a century.
    if cfg.months == 0 || cfg.months > MAX_MONTHS {
        return bad(format!(
            "months must be 1..={MAX_MONTHS}, got {}",
            cfg.months
        ));
    }
    let (end_year, _) = calendar::add_months(cfg.start_year, cfg.start_month, cfg.months - 1);
    if end_year > 9999 {
        return bad(format!("the range ends after year 9999 ({end_year})"));
    }
    if cfg.row_group_rows == 0 || cfg.row_group_rows > MAX_ROW_GROUP_ROWS {
        return bad(format!(
            "row_group_rows must be 1..={MAX_ROW_GROUP_ROWS}, got {}",
            cfg.row_group_rows
        ));
    }
    if cfg.rows > MAX_ROWS {
        return bad(format!("rows must be at most {MAX_ROWS}, got {}", cfg.rows));
    }
    Ok(())
}

/// Generate the dataset described by `cfg` into the directory `out` (created if
/// missing). See the module documentation for what is written.
pub fn generate(cfg: &GeneratorConfig, out: &Path) -> Result<GenerateReport, GenerateError> {
    validate(cfg)?;
    let mut cat_rng = Rand::new(cfg.seed, STREAM_CATALOGUE);
    let cat = Catalogue::build(cfg.rows, &Shape::of(cfg.profile), &mut cat_rng);
    let mut events_rng = Rand::new(cfg.seed, STREAM_EVENTS);
    let mut plan = plan::build(cfg, &cat, &mut cat_rng, &mut events_rng);
    let world = match cfg.profile {
        Profile::Clean => None,
        Profile::Realistic => Some(World::build(cfg.seed, cfg.rows, &cat)),
    };

    // Lines per declaration, per month, then year-local declaration numbering.
    let counts: Vec<Vec<u8>> = plan
        .months
        .par_iter()
        .map(|m| month::plan_line_counts(m, cfg.seed))
        .collect();
    let mut bases = Vec::with_capacity(plan.months.len());
    let mut year = None;
    let mut acc = 0u64;
    for (m, c) in plan.months.iter().zip(&counts) {
        if year != Some(m.year) {
            year = Some(m.year);
            acc = 0;
        }
        bases.push(acc);
        acc += (c.len() + m.planted.len()) as u64;
    }

    std::fs::create_dir_all(out).map_err(|source| GenerateError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let ctx = Ctx::new(cfg, &cat, &plan, world.as_ref());
    let results: Vec<Result<MonthResult, GenerateError>> = (0..plan.months.len())
        .into_par_iter()
        .map(|i| month::write_month(&ctx, &plan.months[i], &counts[i], bases[i], out))
        .collect();
    drop(counts);

    let mut rows = 0;
    let mut files = Vec::with_capacity(results.len());
    let mut labels = Vec::new();
    let mut noise_counts = NoiseCounts::default();
    let mut reclassified_buyers = BTreeSet::new();
    for r in results {
        let r = r?;
        rows += r.rows;
        files.push(r.path);
        labels.extend(r.labels);
        noise_counts.add(&r.noise);
        reclassified_buyers.extend(r.reclassified_buyers);
    }
    realistic::series::label_reclassification(&mut plan, &reclassified_buyers);
    files.sort();
    // Keys are unique: (year, sequence, line) names one line.
    labels.sort_unstable_by_key(|l| (l.yy, l.seq, l.line_no));

    let mut line_labels: BTreeMap<String, u64> = cfg
        .profile
        .line_labels()
        .iter()
        .map(|l| (l.name().to_string(), 0))
        .collect();
    for l in &labels {
        *line_labels.entry(l.label.name().to_string()).or_insert(0) += 1;
    }
    let mut series_labels: BTreeMap<String, u64> =
        [Label::VolumeSurge, Label::FirstTimePrecursorImporter]
            .iter()
            .map(|l| (l.name().to_string(), 0))
            .collect();
    for s in &plan.series {
        *series_labels.entry(s.label.name().to_string()).or_insert(0) += 1;
    }

    let labels_dir = out.join(LABELS_DIR);
    std::fs::create_dir_all(&labels_dir).map_err(|source| GenerateError::Io {
        path: labels_dir.clone(),
        source,
    })?;
    output::write_atomic(
        &labels_dir.join("lines.csv"),
        output::lines_csv(&labels, cfg.profile).as_bytes(),
    )?;
    output::write_atomic(
        &labels_dir.join("series.csv"),
        output::series_csv(&plan.series, &cat).as_bytes(),
    )?;
    let json = output::generator_json(&output::RunSummary {
        cfg,
        cat: &cat,
        plan: &plan,
        rows,
        files: &files,
        out,
        line_labels: &line_labels,
        series_labels: &series_labels,
        world: world.as_ref(),
        noise: &noise_counts,
    });
    output::write_atomic(&labels_dir.join("generator.json"), json.as_bytes())?;

    Ok(GenerateReport {
        rows,
        files,
        line_labels,
        series_labels,
        noise: match cfg.profile {
            Profile::Clean => BTreeMap::new(),
            Profile::Realistic => noise_counts.to_map(),
        },
    })
}
