//! Seeded in-memory fixtures for the kernel benches.
//!
//! Shapes follow the synthetic generator (`tradescan_datasets::generate`) loosely:
//! a Zipf-popular catalogue of national HS codes, Zipf origins, mostly `KGM` units,
//! log-normal quantities and prices, and a little dirt (missing and zero values) so
//! the kernels' skip branches are exercised at realistic rates.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{DictionaryArray, Float64Array, Int32Array, StringArray};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::datatypes::Int32Type;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use tradescan::baseline::{FineKey, NO_GROUP};
use tradescan::kernels::codes::{Code, HsCode};
use tradescan::kernels::unit_value::Basis;

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
