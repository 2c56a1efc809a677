//! Seeded in-memory fixtures for the kernel benches.
//!
//! Shapes follow the synthetic generator (`tradescan_datasets::generate`) loosely:
//! a Zipf-popular catalogue of national HS codes, Zipf origins, mostly `KGM` units,
//! log-normal quantities and prices, and a little dirt (missing and zero values) so
//! the kernels' skip branches are exercised at realistic rates. The volume fixtures
//! ([`panel_entries`], [`volume_series`], [`cell_lines`]) follow the generator's
//! volume shapes in the same loose way.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, DictionaryArray, Float64Array, Int32Array, StringArray};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::datatypes::Int32Type;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use tradescan::baseline::{FineKey, NO_GROUP};
use tradescan::kernels::arrow_edge::NULL_DATE;
use tradescan::kernels::codes::{Code, HsCode};
use tradescan::kernels::unit_value::Basis;
use tradescan::series::cells::LineColumns;

/// Seed of every bench fixture.
pub const SEED: u64 = 0x7ade_5ca9;

/// 2^-53: the top 53 bits of a `u64` as a uniform double in [0, 1).
const TWO_POW_M53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// A seeded ChaCha8 stream with the few distributions the fixtures need.
#[derive(Debug, Clone)]
pub struct Rand {
    rng: ChaCha8Rng,
}

impl Rand {
    /// ChaCha8 stream `stream` of `seed`.
    pub fn new(seed: u64, stream: u64) -> Rand {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Rand { rng }
    }

    /// Next raw word.
    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * TWO_POW_M53
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Standard normal (Box-Muller, one value per call).
    pub fn normal(&mut self) -> f64 {
        let u1 = ((self.next_u64() >> 11) as f64 + 0.5) * TWO_POW_M53;
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
}

/// Zipf-Mandelbrot sampler over ranks `0..n`: weight of rank `k` is `1 / (k + q)^s`.
#[derive(Debug, Clone)]
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// `n` ranks (at least 1), exponent `s`, rank offset `q`.
    pub fn new(n: usize, s: f64, q: f64) -> Zipf {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (0..n.max(1))
            .map(|k| {
                acc += 1.0 / (k as f64 + 1.0 + q).powf(s);
                acc
            })
            .collect();
        let total = acc;
        cdf.iter_mut().for_each(|c| *c /= total);
        Zipf { cdf }
    }

    /// Draw one rank.
    pub fn sample(&self, rng: &mut Rand) -> usize {
        let u = rng.f64();
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.cdf.len() - 1)
    }
}

/// Columns of the unit-value kernel: value, quantity and net mass, NaN where null.
#[derive(Debug, Clone)]
pub struct UnitValueInputs {
    /// Customs value.
    pub value: Vec<f64>,
    /// Quantity in the supplementary unit.
    pub quantity: Vec<f64>,
    /// Net mass in kg.
    pub mass: Vec<f64>,
}

/// `rows` lines with log-normal amounts and ~1.5% dirt: missing and non-positive
/// values, zero and negative quantities, missing masses.
pub fn unit_value_inputs(rows: usize, rng: &mut Rand) -> UnitValueInputs {
    let mut out = UnitValueInputs {
        value: Vec::with_capacity(rows),
        quantity: Vec::with_capacity(rows),
        mass: Vec::with_capacity(rows),
    };
    for _ in 0..rows {
        let q = (3.0 + 1.5 * rng.normal()).exp();
        let m = q * (-1.0 + rng.normal()).exp();
        let v = q * (2.0 + 1.2 * rng.normal()).exp();
        let dirt = rng.below(1000);
        let (v, q, m) = match dirt {
            0..=4 => (f64::NAN, q, m),
            5 => (0.0, q, m),
            6..=8 => (v, 0.0, m),
            9 => (v, -q, m),
            10..=14 => (v, q, f64::NAN),
            _ => (v, q, m),
        };
        out.value.push(v);
        out.quantity.push(q);
        out.mass.push(m);
    }
    out
}

/// A catalogue of `n` distinct national HS codes (8 or 10 digits, leading zeros kept
/// for chapters 01-09), Zipf-popular in catalogue order.
pub fn hs_catalogue(n: usize, rng: &mut Rand) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let chapter = 1 + rng.below(97);
        let rest = rng.below(10_000);
        let code = if rng.chance(0.6) {
            format!("{chapter:02}{rest:04}{:04}", rng.below(10_000))
        } else {
            format!("{chapter:02}{rest:04}{:02}", rng.below(100))
        };
        if seen.insert(code.clone()) {
            out.push(code);
        }
    }
    out
}

/// ISO 3166 alpha-2 codes used as origins.
pub const ORIGINS: [&str; 60] = [
    "CN", "DE", "US", "IT", "FR", "NL", "GB", "JP", "KR", "IN", "TR", "ES", "PL", "VN", "TW", "CH",
    "BE", "TH", "MY", "MX", "CZ", "AT", "SE", "ID", "BR", "CA", "HU", "SK", "IE", "DK", "RO", "PT",
    "BD", "PK", "SG", "IL", "ZA", "UA", "FI", "NO", "AU", "PH", "MA", "TN", "EG", "AR", "CL", "PE",
    "CO", "LK", "KH", "AE", "SA", "RU", "BY", "RS", "BA", "MK", "AL", "NZ",
];

/// Supplementary units with their weights: mostly `KGM`, as in customs data; a few
/// lines spell kilograms in other ways so `Code::parse_unit` takes its slow path.
pub const UNITS: [(&str, u64); 9] = [
    ("KGM", 640),
    ("NAR", 180),
    ("PR", 40),
    ("LTR", 50),
    ("MTK", 30),
    ("MTQ", 20),
    ("GRM", 10),
    ("kg", 20),
    ("Kilograms", 10),
];

/// Draw a unit spelling by [`UNITS`] weight.
pub fn unit(rng: &mut Rand) -> &'static str {
    let total: u64 = UNITS.iter().map(|u| u.1).sum();
    let mut r = rng.below(total);
    for (name, w) in UNITS {
        if r < w {
            return name;
        }
        r -= w;
    }
    UNITS[0].0
}

/// String columns for the key-encoding kernels, in the physical layouts a Parquet
/// reader may hand over.
#[derive(Debug, Clone)]
pub struct CodeColumns {
    /// HS codes, plain utf8 (as the engine reads the generator's files today).
    pub hs_utf8: StringArray,
    /// The same HS codes as a dictionary over the catalogue.
    pub hs_dict: DictionaryArray<Int32Type>,
    /// Origins, plain utf8.
    pub origin_utf8: StringArray,
    /// Units, plain utf8.
    pub unit_utf8: StringArray,
}

/// `rows` lines over a catalogue of `distinct` national codes (Zipf, exponent 1.1,
/// offset 10), Zipf origins and weighted units.
pub fn code_columns(rows: usize, distinct: usize, rng: &mut Rand) -> CodeColumns {
    let catalogue = hs_catalogue(distinct, rng);
    let zipf = Zipf::new(distinct, 1.1, 10.0);
    let origin_zipf = Zipf::new(ORIGINS.len(), 1.0, 2.0);
    let keys: Vec<i32> = (0..rows).map(|_| zipf.sample(rng) as i32).collect();
    let hs_utf8: StringArray = keys
        .iter()
        .map(|&k| Some(catalogue[k as usize].as_str()))
        .collect();
    let values = Arc::new(StringArray::from_iter_values(catalogue.iter()));
    let hs_dict = DictionaryArray::new(Int32Array::from(keys), values);
    let origin_utf8: StringArray = (0..rows)
        .map(|_| Some(ORIGINS[origin_zipf.sample(rng)]))
        .collect();
    let unit_utf8: StringArray = (0..rows).map(|_| Some(unit(rng))).collect();
    CodeColumns {
        hs_utf8,
        hs_dict,
        origin_utf8,
        unit_utf8,
    }
}

/// A Float64 column of `rows` log-normal values; with `null_every`, every that many
/// slots is null with garbage (`-1e300`) under it.
pub fn float_column(rows: usize, null_every: Option<usize>, rng: &mut Rand) -> Float64Array {
    let values: Vec<f64> = (0..rows)
        .map(|i| {
            if null_every.is_some_and(|k| i % k == 0) {
                -1e300
            } else {
                (2.0 + rng.normal()).exp()
            }
        })
        .collect();
    let nulls = null_every.map(|k| NullBuffer::from_iter((0..rows).map(|i| i % k != 0)));
    Float64Array::new(ScalarBuffer::from(values), nulls)
}

/// `groups` groups of `size` values each, concatenated: each group a normal sample
/// around its own centre (ln unit values), with ~1% outliers and some ties.
pub fn grouped_values(groups: usize, size: usize, rng: &mut Rand) -> Vec<f64> {
    let mut out = Vec::with_capacity(groups * size);
    for _ in 0..groups {
        let centre = 3.0 * rng.normal();
        let spread = 0.15 + 0.2 * rng.f64();
        for _ in 0..size {
            let mut x = centre + spread * rng.normal();
            if rng.chance(0.01) {
                x += if rng.chance(0.5) { 2.5 } else { -2.5 };
            }
            if rng.chance(0.05) {
                // Round prices: ties, as declared values often are.
                x = (x * 10.0).round() / 10.0;
            }
            out.push(x);
        }
    }
    out
}

/// Lines of a year of trade as the baseline builder sees them after the measure pass:
/// per line a fine group id and its ln unit value (NaN: none).
#[derive(Debug, Clone)]
pub struct GroupedLines {
    /// Fine group id per line (ids are first-appearance order).
    pub gid: Vec<u32>,
    /// ln unit value per line; NaN for ~1% of lines.
    pub value: Vec<f64>,
    /// Fine key per group id.
    pub keys: Vec<FineKey>,
    /// Lines planted as price anomalies (value multiplied or divided by 6-30).
    pub planted: usize,
}

/// Scan units of this many lines, as the engine's planner cuts them.
pub const UNIT_ROWS: usize = 256 * 1024;

impl GroupedLines {
    /// The lines cut into scan units of [`UNIT_ROWS`], in unit order.
    pub fn parts(&self) -> Vec<(&[u32], &[f64])> {
        self.gid
            .chunks(UNIT_ROWS)
            .zip(self.value.chunks(UNIT_ROWS))
            .collect()
    }
}

/// `rows` lines over `hs6` HS6 codes with 1-4 national extensions each and 60 origins,
/// both Zipf: a few fat groups and a long tail of tiny ones that fall back along the
/// HS hierarchy. ~0.5% of lines are planted price anomalies.
pub fn grouped_lines(rows: usize, hs6: usize, rng: &mut Rand) -> GroupedLines {
    struct National {
        hs: HsCode,
        unit: Code,
        basis: Basis,
        centre: f64,
        spread: f64,
    }
    let mut nationals = Vec::new();
    let heads = hs_catalogue(hs6, rng);
    for head in &heads {
        let hs6_code = &head[..6];
        let hs6_centre = 3.0 * rng.normal();
        let per_unit = rng.chance(0.3);
        let unit = if per_unit {
            Code::parse("NAR")
        } else {
            Code::KGM
        };
        let basis = if per_unit {
            Basis::PerUnit
        } else {
            Basis::PerKg
        };
        let n_ext = 1 + rng.below(4);
        for e in 0..n_ext {
            let ext = if e + 1 == n_ext { 90 } else { 10 * (e + 1) };
            let text = format!("{hs6_code}{ext:02}00");
            nationals.push(National {
                hs: HsCode::parse(&text).unwrap_or_default(),
                unit,
                basis,
                centre: hs6_centre + 0.3 * rng.normal(),
                spread: 0.15 + 0.2 * rng.f64(),
            });
        }
    }
    let origin_offset: Vec<f64> = ORIGINS.iter().map(|_| 0.2 * rng.normal()).collect();
    let nat_zipf = Zipf::new(nationals.len(), 1.1, 10.0);
    let origin_zipf = Zipf::new(ORIGINS.len(), 1.0, 2.0);

    let mut ids: HashMap<FineKey, u32> = HashMap::new();
    let mut out = GroupedLines {
        gid: Vec::with_capacity(rows),
        value: Vec::with_capacity(rows),
        keys: Vec::new(),
        planted: 0,
    };
    for _ in 0..rows {
        let n = &nationals[nat_zipf.sample(rng)];
        let o = origin_zipf.sample(rng);
        let key = FineKey {
            hs: n.hs,
            origin: Code::parse(ORIGINS[o]),
            unit: n.unit,
            basis: n.basis,
        };
        let id = *ids.entry(key).or_insert_with(|| {
            out.keys.push(key);
            (out.keys.len() - 1) as u32
        });
        let mut x = n.centre + origin_offset[o] + n.spread * rng.normal();
        if rng.chance(0.005) {
            // ln of a factor log-uniform in [6, 30].
            let ln_factor = 6f64.ln() + rng.f64() * (30f64.ln() - 6f64.ln());
            x += if rng.chance(0.5) {
                ln_factor
            } else {
                -ln_factor
            };
            out.planted += 1;
        }
        if rng.chance(0.01) {
            x = f64::NAN;
        }
        out.gid.push(if n.hs.is_none() { NO_GROUP } else { id });
        out.value.push(x);
    }
    out
}

// Volume fixtures: panels, weekly series and the lines the per-unit cell aggregation
// reads.

/// Panel entries `(series, period, amount)` as `Panel::build` takes them: sorted by
/// series then period, one per cell present. Each series is active in a share of the
/// periods drawn uniformly in `[fill / 2, 3 * fill / 2]` (at most 1), so the panel's
/// fill is about `fill`; amounts are log-normal around a level of the series' own.
pub fn panel_entries(
    series: usize,
    periods: usize,
    fill: f64,
    rng: &mut Rand,
) -> Vec<(u32, u32, f64)> {
    let mut out = Vec::with_capacity((series as f64 * periods as f64 * fill * 1.1) as usize);
    for s in 0..series {
        let p = (fill * (0.5 + rng.f64())).min(1.0);
        let level = 4.0 + 2.0 * rng.normal();
        for t in 0..periods {
            if rng.chance(p) {
                out.push((s as u32, t as u32, (level + 0.8 * rng.normal()).exp()));
            }
        }
    }
    out
}

/// Weekly volume series, one after the other, `periods` each: amount and line count
/// per period (zero where no line).
#[derive(Debug, Clone)]
pub struct VolumeSeries {
    /// Periods per series.
    pub periods: usize,
    /// Amounts, `series * periods`.
    pub amounts: Vec<f64>,
    /// Lines per period, `series * periods`.
    pub lines: Vec<f64>,
    /// Planted surges: (series, period).
    pub surges: Vec<(usize, usize)>,
    /// Planted drops (three zero periods in a steady series): (series, first period).
    pub drops: Vec<(usize, usize)>,
}

impl VolumeSeries {
    /// Number of series.
    pub fn len(&self) -> usize {
        self.amounts.len() / self.periods.max(1)
    }

    /// Whether there is no series.
    pub fn is_empty(&self) -> bool {
        self.amounts.is_empty()
    }

    /// Amounts and line counts of series `s`.
    pub fn series(&self, s: usize) -> (&[f64], &[f64]) {
        let r = s * self.periods..(s + 1) * self.periods;
        (&self.amounts[r.clone()], &self.lines[r])
    }
}

/// `series` weekly series of `periods` periods with the shapes of customs data: half
/// are regular (active in 80-100% of the weeks), a third intermittent (15-60%), the
/// rest rare (2-10%); amounts log-normal around the series' level (ln spread 0.3-0.8),
/// 1 to 12 lines per active week. ~3% of the regular and intermittent series have a
/// planted surge (20-100 times the level, after week 20); ~1% of the regular ones are
/// steady supplies (ln spread 0.1, active 95-100% of the weeks) with a planted drop
/// (three zero weeks after week 30): a drop stands out only in a steady series.
pub fn volume_series(series: usize, periods: usize, rng: &mut Rand) -> VolumeSeries {
    let mut out = VolumeSeries {
        periods,
        amounts: Vec::with_capacity(series * periods),
        lines: Vec::with_capacity(series * periods),
        surges: Vec::new(),
        drops: Vec::new(),
    };
    for s in 0..series {
        let shape = rng.below(100);
        let surge = shape < 85 && periods > 21 && rng.chance(0.03);
        let drop = !surge && shape < 50 && periods > 34 && rng.chance(0.01);
        let p = match shape {
            _ if drop => 0.95 + 0.05 * rng.f64(),
            0..50 => 0.8 + 0.2 * rng.f64(),
            50..85 => 0.15 + 0.45 * rng.f64(),
            _ => 0.02 + 0.08 * rng.f64(),
        };
        let level = 5.0 + 2.0 * rng.normal();
        let sigma = if drop { 0.1 } else { 0.3 + 0.5 * rng.f64() };
        let lines_mean = 1 + rng.below(6);
        let start = out.amounts.len();
        for _ in 0..periods {
            if rng.chance(p) {
                out.amounts.push((level + sigma * rng.normal()).exp());
                out.lines.push((1 + rng.below(2 * lines_mean)) as f64);
            } else {
                out.amounts.push(0.0);
                out.lines.push(0.0);
            }
        }
        if surge {
            let t = 20 + rng.below((periods - 20) as u64) as usize;
            // A factor log-uniform in [20, 100].
            let ln_factor = 20f64.ln() + rng.f64() * (100f64.ln() - 20f64.ln());
            out.amounts[start + t] = (level + ln_factor).exp();
            out.lines[start + t] = out.lines[start + t].max(1.0);
            out.surges.push((s, t));
        } else if drop {
            let t = 30 + rng.below((periods - 33) as u64) as usize;
            out.amounts[start + t..start + t + 3].fill(0.0);
            out.lines[start + t..start + t + 3].fill(0.0);
            out.drops.push((s, t));
        }
    }
    out
}

/// First day of the cell fixture's year (2024-01-01, days since 1970-01-01).
pub const CELL_YEAR_START: i32 = 19_723;

/// Customs offices of the cell fixture (`BE0101` spellings, as the generator's).
pub const CELL_OFFICES: usize = 25;

/// Declaration lines as the volume pass reads them: decoded key and measure columns,
/// importer ids as a dictionary array, offices as plain strings.
#[derive(Debug, Clone)]
pub struct CellLines {
    /// HS codes ([`HsCode::NONE`] for ~0.2% of lines; ~0.1% have only 4 digits).
    pub hs: Vec<HsCode>,
    /// Origins.
    pub origin: Vec<Code>,
    /// Acceptance dates over a year from [`CELL_YEAR_START`]; [`NULL_DATE`] for ~0.3%.
    pub dates: Vec<i32>,
    /// Quantities, NaN for ~1%.
    pub quantity: Vec<f64>,
    /// Net masses.
    pub mass: Vec<f64>,
    /// Customs values.
    pub value: Vec<f64>,
    /// `Dictionary(Int32, Utf8)` of importer ids, null for ~0.5% of lines.
    pub importer: ArrayRef,
    /// `Utf8` office codes.
    pub office: ArrayRef,
    /// Distinct importer ids in the dictionary.
    pub importers: usize,
}

/// One batch of [`CellLines`], as a reader hands it over: a row range and the string
/// columns sliced to it (sharing the dictionary, as batches of one column chunk do).
#[derive(Debug, Clone)]
pub struct LineBatch {
    /// Rows of the batch.
    pub rows: std::ops::Range<usize>,
    /// Importer ids of the batch.
    pub importer: ArrayRef,
    /// Offices of the batch.
    pub office: ArrayRef,
}

impl LineBatch {
    /// The batch's columns.
    pub fn columns<'a>(&'a self, lines: &'a CellLines) -> LineColumns<'a> {
        let r = self.rows.clone();
        LineColumns {
            hs: &lines.hs[r.clone()],
            origin: &lines.origin[r.clone()],
            dates: &lines.dates[r.clone()],
            quantity: &lines.quantity[r.clone()],
            mass: &lines.mass[r.clone()],
            value: &lines.value[r],
            importer: Some(&self.importer),
            office: Some(&self.office),
        }
    }
}

impl CellLines {
    /// Number of lines.
    pub fn len(&self) -> usize {
        self.hs.len()
    }

    /// Whether there is no line.
    pub fn is_empty(&self) -> bool {
        self.hs.is_empty()
    }

    /// The first `rows` lines cut into scan units of `unit_rows` lines, each cut into
    /// batches of `batch_size` lines.
    pub fn units(&self, rows: usize, unit_rows: usize, batch_size: usize) -> Vec<Vec<LineBatch>> {
        let rows = rows.min(self.len());
        (0..rows)
            .step_by(unit_rows.max(1))
            .map(|u| {
                let end = (u + unit_rows).min(rows);
                (u..end)
                    .step_by(batch_size.max(1))
                    .map(|b| {
                        let e = (b + batch_size).min(end);
                        LineBatch {
                            rows: b..e,
                            importer: self.importer.slice(b, e - b),
                            office: self.office.slice(b, e - b),
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// `rows` lines of a year of trade by `importers` importers (Zipf): each importer has a
/// portfolio of 1-8 national codes (85% of its lines), 1-3 usual origins (80%) and a
/// home office (90%); codes come from a Zipf catalogue of 4,000, origins are Zipf over
/// [`ORIGINS`]; quantities, masses and values log-normal, with a little dirt.
pub fn cell_lines(rows: usize, importers: usize, rng: &mut Rand) -> CellLines {
    let catalogue: Vec<HsCode> = hs_catalogue(4_000, rng)
        .iter()
        .map(|s| HsCode::parse(s).unwrap_or_default())
        .collect();
    let hs_zipf = Zipf::new(catalogue.len(), 1.1, 10.0);
    let origin_zipf = Zipf::new(ORIGINS.len(), 1.0, 2.0);
    let office_zipf = Zipf::new(CELL_OFFICES, 1.0, 1.0);
    let importer_zipf = Zipf::new(importers, 1.0, 5.0);
    let origins: Vec<Code> = ORIGINS.iter().map(|o| Code::parse(o)).collect();
    let offices: Vec<String> = (0..CELL_OFFICES)
        .map(|i| format!("{}{:04}", ["BE", "DE", "NL", "FR", "IT"][i % 5], 101 + i))
        .collect();
    let names: Vec<String> = (0..importers).map(|i| format!("IM{i:06}")).collect();
    let portfolio: Vec<Vec<usize>> = (0..importers)
        .map(|_| (0..1 + rng.below(8)).map(|_| hs_zipf.sample(rng)).collect())
        .collect();
    let usual: Vec<Vec<usize>> = (0..importers)
        .map(|_| {
            (0..1 + rng.below(3))
                .map(|_| origin_zipf.sample(rng))
                .collect()
        })
        .collect();
    let home: Vec<usize> = (0..importers).map(|_| office_zipf.sample(rng)).collect();

    let mut hs = Vec::with_capacity(rows);
    let mut origin = Vec::with_capacity(rows);
    let mut dates = Vec::with_capacity(rows);
    let mut quantity = Vec::with_capacity(rows);
    let mut mass = Vec::with_capacity(rows);
    let mut value = Vec::with_capacity(rows);
    let mut keys: Vec<Option<i32>> = Vec::with_capacity(rows);
    let mut office: Vec<&str> = Vec::with_capacity(rows);
    for _ in 0..rows {
        let imp = importer_zipf.sample(rng);
        let own = &portfolio[imp];
        let code = if rng.chance(0.85) {
            catalogue[own[rng.below(own.len() as u64) as usize]]
        } else {
            catalogue[hs_zipf.sample(rng)]
        };
        let code = match rng.below(1000) {
            0 | 1 => HsCode::NONE,
            2 => code.prefix(4),
            _ => code,
        };
        hs.push(code);
        let own = &usual[imp];
        origin.push(
            origins[if rng.chance(0.8) {
                own[rng.below(own.len() as u64) as usize]
            } else {
                origin_zipf.sample(rng)
            }],
        );
        dates.push(if rng.chance(0.003) {
            NULL_DATE
        } else {
            CELL_YEAR_START + rng.below(366) as i32
        });
        let q = (3.0 + 1.5 * rng.normal()).exp();
        quantity.push(if rng.chance(0.01) { f64::NAN } else { q });
        mass.push(q * (-1.0 + rng.normal()).exp());
        value.push(q * (2.0 + 1.2 * rng.normal()).exp());
        keys.push((!rng.chance(0.005)).then_some(imp as i32));
        let o = if rng.chance(0.9) {
            home[imp]
        } else {
            rng.below(CELL_OFFICES as u64) as usize
        };
        office.push(&offices[o]);
    }
    let importer: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::new(
        Int32Array::from(keys),
        Arc::new(StringArray::from_iter_values(&names)),
    ));
    let office: ArrayRef = Arc::new(StringArray::from_iter_values(office));
    CellLines {
        hs,
        origin,
        dates,
        quantity,
        mass,
        value,
        importer,
        office,
        importers,
    }
}
