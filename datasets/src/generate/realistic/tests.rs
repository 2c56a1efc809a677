//! The realistic profile has each documented property, and its labels agree with the
//! data. Each property is measured on the data (as a detector would see it) and, where
//! a statistic could be near its threshold by chance, against the clean profile as a
//! control.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use super::super::tests::{Row, all_bytes, assert_labels_sorted_and_unique, read_csv, read_rows};
use super::*;
use crate::generate::catalogue::{Catalogue, ORIGINS, Shape};
use crate::generate::rng::{Rand, STREAM_CATALOGUE};
use crate::generate::{GenerateReport, GeneratorConfig, LABELS_DIR, Profile, generate};

/// Rows of the shared realistic data set (12 months).
const ROWS: u64 = 300_000;
/// Its seed.
const SEED: u64 = 3;

/// One row of `lines.csv`.
#[derive(Debug, Clone)]
struct LabelRow {
    decl: String,
    line_no: i32,
    label: String,
    factor: Option<f64>,
    field: String,
}

/// A generated data set read back into memory.
struct Data {
    report: GenerateReport,
    rows: Vec<Row>,
    header: Vec<String>,
    labels: Vec<LabelRow>,
    /// (declaration, line) -> index into `labels`.
    label_of: HashMap<(String, i32), usize>,
    json: String,
    /// `series.csv`, header first.
    series: Vec<Vec<String>>,
}

impl Data {
    fn generate(rows: u64, seed: u64, profile: Profile) -> Data {
        Data::generate_months(rows, seed, profile, GeneratorConfig::default().months)
    }

    fn generate_months(rows: u64, seed: u64, profile: Profile, months: u32) -> Data {
        let cfg = GeneratorConfig {
            rows,
            seed,
            profile,
            months,
            row_group_rows: 65_536,
            ..GeneratorConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let report = generate(&cfg, dir.path()).unwrap();
        let rows = read_rows(&report.files);
        let csv = read_csv(&dir.path().join(LABELS_DIR).join("lines.csv"));
        let header = csv[0].clone();
        let labels: Vec<LabelRow> = csv[1..]
            .iter()
            .map(|l| LabelRow {
                decl: l[0].clone(),
                line_no: l[1].parse().unwrap(),
                label: l[2].clone(),
                factor: l
                    .get(3)
                    .filter(|f| !f.is_empty())
                    .map(|f| f.parse().unwrap()),
                field: l.get(4).cloned().unwrap_or_default(),
            })
            .collect();
        let label_of = labels
            .iter()
            .enumerate()
            .map(|(i, l)| ((l.decl.clone(), l.line_no), i))
            .collect();
        let json =
            std::fs::read_to_string(dir.path().join(LABELS_DIR).join("generator.json")).unwrap();
        let series = read_csv(&dir.path().join(LABELS_DIR).join("series.csv"));
        Data {
            report,
            rows,
            header,
            labels,
            label_of,
            json,
            series,
        }
    }

    fn label(&self, r: &Row) -> Option<&LabelRow> {
        self.label_of
            .get(&(r.decl.clone(), r.line_no))
            .map(|&i| &self.labels[i])
    }
}

/// The realistic data set with the catalogue and models it was drawn from.
struct Realistic {
    data: Data,
    cat: Catalogue,
    world: World,
    /// National code -> index in `cat.nats`.
    nat_of: HashMap<String, usize>,
}

fn realistic() -> &'static Realistic {
    static DATA: OnceLock<Realistic> = OnceLock::new();
    DATA.get_or_init(|| {
        let data = Data::generate(ROWS, SEED, Profile::Realistic);
        let shape = Shape::of(Profile::Realistic);
        let cat = Catalogue::build(ROWS, &shape, &mut Rand::new(SEED, STREAM_CATALOGUE));
        let world = World::build(SEED, ROWS, &cat);
        let nat_of = cat
            .nats
            .iter()
            .enumerate()
            .map(|(i, n)| (n.code.clone(), i))
            .collect();
        Realistic {
            data,
            cat,
            world,
            nat_of,
        }
    })
}

/// The clean profile with the same size and seed (the control).
fn clean() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| Data::generate(ROWS, SEED, Profile::Clean))
}

/// ln unit value as the engine computes it from the columns the line's noise does not
/// touch: per kg on KGM lines (their quantity may be the gross mass), per
/// supplementary unit otherwise.
fn ln_uv(r: &Row) -> f64 {
    if r.unit == "KGM" {
        (r.value / r.mass).ln()
    } else {
        (r.value / r.quantity).ln()
    }
}

fn origin_index(o: &str) -> usize {
    ORIGINS.iter().position(|x| *x == o).unwrap()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Robust z-scores of ln unit values within (code, origin) groups of at least
/// `min_group` unlabelled lines, pooled by goods class. `keep` selects the codes.
fn pooled_z(data: &Data, min_group: usize, keep: impl Fn(&str) -> bool) -> [Vec<f64>; 3] {
    let mut groups: HashMap<(&str, &str), Vec<f64>> = HashMap::new();
    for r in &data.rows {
        if data.label(r).is_none() && keep(&r.hs_code) {
            groups
                .entry((r.hs_code.as_str(), r.origin.as_str()))
                .or_default()
                .push(ln_uv(r));
        }
    }
    let mut out: [Vec<f64>; 3] = Default::default();
    for ((code, _), mut xs) in groups {
        if xs.len() < min_group {
            continue;
        }
        let m = median(&mut xs);
        let mut dev: Vec<f64> = xs.iter().map(|x| (x - m).abs()).collect();
        let mad = median(&mut dev) * 1.4826;
        if mad <= 0.0 {
            continue;
        }
        out[goods_class(code) as usize].extend(xs.iter().map(|x| (x - m) / mad));
    }
    out
}

/// Sample excess kurtosis.
fn excess_kurtosis(z: &[f64]) -> f64 {
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    let m2 = z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let m4 = z.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    m4 / (m2 * m2) - 3.0
}

fn tail_share(z: &[f64], k: f64) -> f64 {
    z.iter().filter(|x| x.abs() > k).count() as f64 / z.len() as f64
}

#[test]
fn profile_names_parse() {
    assert_eq!("clean".parse::<Profile>().unwrap(), Profile::Clean);
    assert_eq!("realistic".parse::<Profile>().unwrap(), Profile::Realistic);
    assert!(matches!(
        "messy".parse::<Profile>(),
        Err(crate::generate::GenerateError::InvalidConfig(_))
    ));
    assert_eq!(GeneratorConfig::default().profile, Profile::Clean);
}

#[test]
fn realistic_is_reproducible_and_differs_from_clean() {
    let cfg = GeneratorConfig {
        rows: 20_000,
        seed: 7,
        profile: Profile::Realistic,
        ..GeneratorConfig::default()
    };
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    generate(&cfg, a.path()).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| generate(&cfg, b.path())).unwrap();
    let (ba, bb) = (all_bytes(a.path()), all_bytes(b.path()));
    assert_eq!(ba, bb);
    generate(
        &GeneratorConfig {
            profile: Profile::Clean,
            ..cfg
        },
        c.path(),
    )
    .unwrap();
    let bc = all_bytes(c.path());
    assert!(
        ba.iter().all(|(k, v)| bc.get(k) != Some(v)),
        "a file equals clean's"
    );
}

#[test]
fn labels_are_exclusive_on_target_and_say_what_they_changed() {
    let r = realistic();
    let d = &r.data;
    assert_eq!(d.rows.len() as u64, ROWS);
    assert_eq!(
        d.header,
        ["declaration_id", "line_no", "label", "factor", "field"]
    );
    let keys: Vec<(&str, i32)> = d
        .labels
        .iter()
        .map(|l| (l.decl.as_str(), l.line_no))
        .collect();
    assert_labels_sorted_and_unique(&keys);
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for l in &d.labels {
        *counts.entry(l.label.as_str()).or_default() += 1;
    }
    for (k, v) in &d.report.line_labels {
        assert_eq!(counts.get(k.as_str()).copied().unwrap_or(0), *v, "{k}");
        assert!(d.json.contains(&format!("\"{k}\": {v}")), "{k} not in json");
    }
    assert!(d.json.contains("\"profile\": \"realistic\""));
    for (label, share) in LINE_LABEL_SHARES {
        let got = counts.get(label).copied().unwrap_or(0) as f64 / ROWS as f64;
        assert!(
            got > share * 0.7 && got < share * 1.4,
            "{label}: share {got} vs documented {share}"
        );
    }

    // Every label names a line; factor and field say what changed.
    let by_key: HashMap<(&str, i32), &Row> = d
        .rows
        .iter()
        .map(|r| ((r.decl.as_str(), r.line_no), r))
        .collect();
    let mut by_decl: HashMap<&str, Vec<&Row>> = HashMap::new();
    for row in &d.rows {
        by_decl.entry(row.decl.as_str()).or_default().push(row);
    }
    let rate_of: HashMap<&str, f64> = CURRENCY_RATES.iter().map(|(o, _, r)| (*o, *r)).collect();
    for l in &d.labels {
        let row = by_key[&(l.decl.as_str(), l.line_no)];
        let f = l.factor;
        match l.label.as_str() {
            "under_valuation" => {
                let f = f.unwrap();
                assert!(
                    l.field == "customs_value" && (1.0 / 30.01..=0.5001).contains(&f),
                    "{l:?}"
                );
            }
            "over_valuation" => {
                let f = f.unwrap();
                assert!(
                    l.field == "customs_value" && (1.999..=30.01).contains(&f),
                    "{l:?}"
                );
            }
            "price_gouging" => {
                let f = f.unwrap();
                assert!(
                    l.field == "customs_value" && (1.999..=15.01).contains(&f),
                    "{l:?}"
                );
            }
            "currency_slip" => {
                let f = f.unwrap();
                let rate = rate_of[row.origin.as_str()];
                let m = f.max(1.0 / f) / rate;
                assert!(
                    l.field == "customs_value" && (0.949..=1.051).contains(&m),
                    "{l:?}"
                );
            }
            "wrong_unit" => {
                let f = f.unwrap();
                assert!(l.field == "quantity" || l.field == "net_mass_kg", "{l:?}");
                assert!(
                    [10.0, 100.0, 1000.0, 0.1, 0.01, 0.001].contains(&f),
                    "{l:?}"
                );
            }
            "duplicate" => {
                assert!(f.is_none() && l.field.is_empty(), "{l:?}");
                let same = |o: &&&Row| {
                    o.line_no < row.line_no
                        && o.hs_code == row.hs_code
                        && o.quantity == row.quantity
                        && o.unit == row.unit
                        && o.mass == row.mass
                        && o.value == row.value
                };
                let src = by_decl[row.decl.as_str()]
                    .iter()
                    .find(same)
                    .unwrap_or_else(|| panic!("{l:?} repeats no earlier line"));
                assert!(d.label(src).is_none(), "{l:?} repeats a labelled line");
            }
            "volume_surge" | "first_time_precursor_importer" => {
                assert!(f.is_none() && l.field.is_empty(), "{l:?}");
            }
            other => panic!("unknown label {other}"),
        }
    }
}

#[test]
fn value_labels_differ_from_their_code_by_the_stated_factor() {
    let r = realistic();
    let d = &r.data;
    // Expected ln unit value of a single-tier code's line, from the models; the
    // residual of an unlabelled line is its noise, bounded by the cap.
    let expected = |row: &Row| -> Option<f64> {
        let n = r.nat_of[row.hs_code.as_str()];
        (r.world.codes[n].tiers.n == 1)
            .then(|| r.cat.nats[n].ln_unit_value + r.cat.origin_offset[origin_index(&row.origin)])
    };
    let mut honest = Vec::new();
    let mut slipped: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    // Data-only view: against the median of the unlabelled lines of (code, origin).
    let mut groups: HashMap<(&str, &str), Vec<f64>> = HashMap::new();
    for row in &d.rows {
        if d.label(row).is_none() {
            groups
                .entry((&row.hs_code, &row.origin))
                .or_default()
                .push(ln_uv(row));
        }
    }
    let medians: HashMap<(&str, &str), (f64, usize)> = groups
        .into_iter()
        .map(|(k, mut v)| (k, (median(&mut v), v.len())))
        .collect();
    let mut vs_median: Vec<f64> = Vec::new();
    for row in d.rows.iter().filter(|row| row.value >= 1.0) {
        let Some(e) = expected(row) else { continue };
        match d.label(row) {
            None => honest.push((ln_uv(row) - e).abs()),
            Some(l) if l.field == "customs_value" => {
                let res = ln_uv(row) - e - l.factor.unwrap().ln();
                assert!(
                    res.abs() < NOISE_CAP + 0.03,
                    "{l:?} {row:?}: residual {res}"
                );
                slipped.entry(l.label.as_str()).or_default().push(res.abs());
                if l.label == "currency_slip"
                    && let Some(&(m, n)) = medians.get(&(row.hs_code.as_str(), row.origin.as_str()))
                    && n >= 5
                {
                    vs_median.push((ln_uv(row) - m - l.factor.unwrap().ln()).abs());
                }
            }
            Some(_) => {}
        }
    }
    assert!(honest.iter().all(|x| *x < NOISE_CAP + 0.03));
    let honest_median = median(&mut honest);
    for label in [
        "under_valuation",
        "over_valuation",
        "currency_slip",
        "price_gouging",
    ] {
        let v = slipped.get_mut(label).unwrap();
        assert!(v.len() >= 20, "{label}: {} lines", v.len());
        let m = median(v);
        // After removing the stated factor, a slipped line is as close to its code's
        // price as an honest one.
        assert!(
            m < 1.5 * honest_median + 0.02,
            "{label}: median residual {m} vs honest {honest_median}"
        );
    }
    assert!(vs_median.len() >= 20, "{}", vs_median.len());
    let m = median(&mut vs_median);
    assert!(m < 0.35, "currency slips vs (code, origin) median: {m}");
}

#[test]
fn kgm_lines_have_unit_slips_and_legitimate_quantity_mismatches() {
    let d = &realistic().data;
    let mut kgm_slips = 0;
    let mut other_slips = 0;
    let (mut unlabelled, mut mismatched) = (0u64, 0u64);
    for row in &d.rows {
        match d.label(row) {
            Some(l) if l.label == "wrong_unit" => {
                let f = l.factor.unwrap();
                if row.unit == "KGM" {
                    kgm_slips += 1;
                    // The untouched column still holds the net mass.
                    let (slipped, kept) = if l.field == "quantity" {
                        (row.quantity, row.mass)
                    } else {
                        (row.mass, row.quantity)
                    };
                    let want = ((kept * f * 1000.0).round() / 1000.0).max(0.001);
                    assert_eq!(slipped, want, "{l:?} {row:?}");
                } else {
                    other_slips += 1;
                }
            }
            None if row.unit == "KGM" => {
                unlabelled += 1;
                if row.quantity != row.mass {
                    mismatched += 1;
                    let ratio = row.quantity / row.mass;
                    // Gross mass (packaging 2-15%) or whole kilograms (>= 10 kg).
                    assert!((0.95..=1.151).contains(&ratio), "{row:?}");
                }
            }
            _ => {}
        }
    }
    assert!(
        kgm_slips >= 100 && other_slips >= 100,
        "{kgm_slips} {other_slips}"
    );
    let share = mismatched as f64 / unlabelled as f64;
    assert!(
        (0.05..0.12).contains(&share),
        "KGM quantity != mass on {share}"
    );
    // The clean profile never lets them differ.
    let c = clean();
    assert!(
        c.rows
            .iter()
            .filter(|r| r.unit == "KGM")
            .all(|r| r.quantity == r.mass || c.label(r).is_some())
    );
}

#[test]
fn line_noise_is_heavy_tailed_and_heaviest_for_differentiated_goods() {
    let r = realistic();
    let single = |code: &str| r.world.codes[r.nat_of[code]].tiers.n == 1;
    let z = pooled_z(&r.data, 20, single);
    let zc = pooled_z(clean(), 20, |_| true);
    let all = |z: &[Vec<f64>; 3]| z.concat();
    let (k_real, k_clean) = (excess_kurtosis(&all(&z)), excess_kurtosis(&all(&zc)));
    let t_real: Vec<f64> = z.iter().map(|v| tail_share(v, 4.0)).collect();
    let t_clean = tail_share(&all(&zc), 4.0);
    eprintln!(
        "excess kurtosis realistic {k_real:.2} (by class {:.2} {:.2} {:.2}), clean {k_clean:.2}; \
         P(|z|>4) by class {t_real:?}, clean {t_clean:.5}; lines {:?}",
        excess_kurtosis(&z[0]),
        excess_kurtosis(&z[1]),
        excess_kurtosis(&z[2]),
        z.each_ref().map(Vec::len)
    );
    assert!(z.iter().all(|v| v.len() >= 5_000));
    assert!(k_clean < 1.0, "clean excess kurtosis {k_clean}");
    assert!(
        k_real > k_clean + 2.0,
        "realistic {k_real} vs clean {k_clean}"
    );
    let (homogeneous, differentiated) = (t_real[0], t_real[2]);
    assert!(
        differentiated > 2.0 * homogeneous && differentiated > 10.0 * t_clean,
        "tails: differentiated {differentiated}, homogeneous {homogeneous}, clean {t_clean}"
    );
}

#[test]
fn multi_tier_codes_are_bimodal() {
    let r = realistic();
    let tiers = r.world.tier_counts();
    assert!(tiers[1] > 0 && tiers[2] > 0, "{tiers:?}");
    assert!(r.data.report.noise["lines_in_multi_tier_codes"] > ROWS / 10);
    // ln unit value relative to the code's level, per code.
    let mut rel: HashMap<usize, Vec<f64>> = HashMap::new();
    for row in &r.data.rows {
        let n = r.nat_of[row.hs_code.as_str()];
        if r.data.label(row).is_none() && r.world.codes[n].tiers.n == 2 {
            let level =
                r.cat.nats[n].ln_unit_value + r.cat.origin_offset[origin_index(&row.origin)];
            rel.entry(n).or_default().push(ln_uv(row) - level);
        }
    }
    let mut checked = 0;
    for (n, xs) in &rel {
        let m = &r.world.codes[*n];
        let (lo, hi) = (m.tiers.offset[0], m.tiers.offset[1]);
        let gap = hi - lo;
        if xs.len() < 200
            || gap < 3f64.ln()
            || m.scale > 0.25
            || m.tiers.share(0).min(m.tiers.share(1)) < 0.25
        {
            continue;
        }
        checked += 1;
        let w = gap / 6.0;
        let near = |c: f64| xs.iter().filter(|x| (*x - c).abs() < w).count();
        let (a, mid, b) = (near(lo), near(0.5 * (lo + hi)), near(hi));
        // Two modes with a trough between them (one level would put its mode at one
        // end and fewer lines at the far end than in the middle).
        assert!(
            2 * a > 3 * mid && 2 * b > 3 * mid,
            "code {} (gap {gap:.2}, scale {:.2}): {a} / {mid} / {b} lines near low / middle / high",
            r.cat.nats[*n].code,
            m.scale
        );
        // The split follows the tier shares (importers keep to their tier, so the
        // realised split of one code varies).
        let below = xs.iter().filter(|x| **x < 0.5 * (lo + hi)).count() as f64 / xs.len() as f64;
        assert!(
            (below - m.tiers.share(0)).abs() < 0.3,
            "{below} vs {:?}",
            m.tiers
        );
    }
    eprintln!("{checked} two-tier codes checked for two modes");
    assert!(checked >= 5, "only {checked} two-tier codes to check");
}

#[test]
fn small_codes_carry_anomalies() {
    let d = &realistic().data;
    let mut lines_of: HashMap<&str, u64> = HashMap::new();
    for row in &d.rows {
        *lines_of.entry(row.hs_code.as_str()).or_default() += 1;
    }
    let price = [
        "under_valuation",
        "over_valuation",
        "wrong_unit",
        "currency_slip",
    ];
    // (lines, labelled lines) by code size: < 10, 10-50, >= 50.
    let mut by_size = [(0u64, 0u64); 3];
    for row in &d.rows {
        let size = match lines_of[row.hs_code.as_str()] {
            n if n < 10 => 0,
            n if n < 50 => 1,
            _ => 2,
        };
        by_size[size].0 += 1;
        if d.label(row)
            .is_some_and(|l| price.contains(&l.label.as_str()))
        {
            by_size[size].1 += 1;
        }
    }
    let rate = |(n, k): (u64, u64)| k as f64 / n as f64;
    let overall = rate((
        by_size.iter().map(|s| s.0).sum(),
        by_size.iter().map(|s| s.1).sum(),
    ));
    assert!(by_size[0].1 >= 5, "{by_size:?}");
    assert!(by_size[1].1 >= 50, "{by_size:?}");
    assert!(
        rate(by_size[1]) > 0.6 * overall && rate(by_size[1]) < 1.6 * overall,
        "labels in 10-50-line codes: {} vs {overall}",
        rate(by_size[1])
    );
}

#[test]
fn values_are_rounded_and_bunch_under_thresholds() {
    let shares = |d: &Data| {
        // Unlabelled values >= 200 that are whole tens; KGM quantities >= 100 with at
        // most two significant digits.
        let vals: Vec<f64> = d
            .rows
            .iter()
            .filter(|r| d.label(r).is_none() && r.value >= 200.0)
            .map(|r| r.value)
            .collect();
        let tens = vals.iter().filter(|v| *v % 10.0 == 0.0).count() as f64 / vals.len() as f64;
        let qs: Vec<f64> = d
            .rows
            .iter()
            .filter(|r| r.unit == "KGM" && r.quantity >= 100.0)
            .map(|r| r.quantity)
            .collect();
        let round =
            qs.iter().filter(|q| decl::round_sig(**q, 2) == **q).count() as f64 / qs.len() as f64;
        // Declarations totalling just under / just over EUR 20,000.
        let mut totals: HashMap<&str, f64> = HashMap::new();
        for r in &d.rows {
            *totals.entry(r.decl.as_str()).or_default() += r.value;
        }
        let t = BUNCHING.thresholds[1];
        let under = totals
            .values()
            .filter(|v| (0.95 * t..t).contains(*v))
            .count();
        let over = totals
            .values()
            .filter(|v| **v > t && **v <= 1.05 * t)
            .count();
        (tens, round, under, over)
    };
    let (tens, round, under, over) = shares(&realistic().data);
    let (c_tens, c_round, c_under, c_over) = shares(clean());
    eprintln!(
        "whole tens {tens:.4} (clean {c_tens:.4}), round quantities {round:.3} (clean \
         {c_round:.3}), totals under/over 20k {under}/{over} (clean {c_under}/{c_over})"
    );
    assert!(tens > 0.05 && c_tens < 0.01, "{tens} {c_tens}");
    assert!(round > c_round + 0.1, "{round} {c_round}");
    assert!(
        under as f64 > 1.5 * over as f64 && (c_under as f64) < 1.3 * c_over as f64,
        "realistic {under}/{over}, clean {c_under}/{c_over}"
    );
}

/// The realistic series scenarios: surges on sparse (HS6, importer) pairs (at least 8
/// lines in the week, against at most 13 active weeks of the 26 before), and ordinary
/// first purchases, unlabelled, in the most traded watched codes.
#[test]
fn sparse_importers_surge_and_newcomers_buy_watched_goods() {
    let r = realistic();
    let d = &r.data;
    let count = |key: &str| -> u64 {
        let at = d.json.find(&format!("\"{key}\": ")).unwrap() + key.len() + 4;
        let digits: String = d.json[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().unwrap()
    };
    let (irregular, newcomers) = (count("irregular_surges"), count("newcomers"));
    assert!(irregular >= 3, "{irregular} irregular surges");
    // Weekly line counts per (hs6, importer).
    let weekly = weekly_lines(d);
    let mut sparse = 0;
    for s in d.series[1..].iter().filter(|s| s[0] == "volume_surge") {
        let weeks = &weekly[&(s[2].as_str(), s[3].as_str())];
        let monday = week(crate::generate::calendar::days_from_civil(
            s[7][..4].parse().unwrap(),
            s[7][5..7].parse().unwrap(),
            s[7][8..].parse().unwrap(),
        ));
        let active = weeks.range(monday - 26 * 7..monday).count();
        if weeks.get(&monday).copied().unwrap_or(0) >= 8 && active <= 13 {
            sparse += 1;
        }
    }
    assert!(
        sparse >= irregular,
        "{sparse} sparse surges, {irregular} planted"
    );
    // Newcomers: many first purchases (an importer's first line of a watched code) in
    // the data's later months, none of them labelled.
    assert!(newcomers > 100, "{newcomers} newcomers");
    let start = d.rows.iter().map(|row| row.date).min().unwrap();
    let mut first: HashMap<(&str, &str), &Row> = HashMap::new();
    for row in &d.rows {
        let nat = r.nat_of[&row.hs_code];
        if r.cat.nats[nat].families != 0 {
            let e = first.entry((&row.hs_code, &row.importer)).or_insert(row);
            if row.date < e.date {
                *e = row;
            }
        }
    }
    let late_unlabelled = first
        .values()
        .filter(|row| row.date > start + 91 && d.label(row).is_none())
        .count() as u64;
    assert!(
        late_unlabelled >= newcomers / 2,
        "{late_unlabelled} late first purchases"
    );
}

/// Seasonal peaks: labelled benign in `series.csv`, in the weeks from the first Monday
/// of March of every year, on nitrogen fertilisers, with at least three times the
/// pair's median weekly lines outside the season and no line label.
#[test]
fn nitrogen_fertiliser_importers_peak_every_spring_labelled_benign() {
    let r = realistic();
    let d = &r.data;
    let peaks: Vec<&Vec<String>> = d.series[1..]
        .iter()
        .filter(|s| s[0] == "benign_seasonal_peak")
        .collect();
    assert!(!peaks.is_empty());
    let at = d.json.find("\"seasonal_peaks\": ").unwrap() + 18;
    let counted: usize = d.json[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap();
    assert_eq!(counted, peaks.len());
    let weekly = weekly_lines(d);
    // A season in every year whose March the data covers.
    let years: std::collections::BTreeSet<i32> =
        peaks.iter().map(|s| s[7][..4].parse().unwrap()).collect();
    let (first, last) = d.rows.iter().fold((i32::MAX, i32::MIN), |(a, b), row| {
        (a.min(row.date), b.max(row.date))
    });
    let civil = crate::generate::calendar::days_from_civil;
    let covered: std::collections::BTreeSet<i32> = (2000..2100)
        .filter(|&y| civil(y, 3, 1) >= first && civil(y, 3, 31) <= last)
        .collect();
    assert!(
        !covered.is_empty() && covered.is_subset(&years),
        "{years:?} vs {covered:?}"
    );
    // Each peak week holds its planted lines (at least 2); together they hold at least
    // twice the weekly lines of the same pairs outside the season.
    let (mut peak_lines, mut usual_lines, mut usual_weeks) = (0u32, 0u32, 0usize);
    for s in &peaks {
        assert!(s[2].starts_with("3102"), "{s:?}");
        let (m, day): (u32, u32) = (s[7][5..7].parse().unwrap(), s[7][8..].parse().unwrap());
        assert!(
            (m == 3 && day <= 28) || (m == 4 && day <= 4),
            "{s:?}: weeks of March"
        );
        let weeks = &weekly[&(s[2].as_str(), s[3].as_str())];
        let monday = week(civil(s[7][..4].parse().unwrap(), m, day));
        assert!(weeks[&monday] >= 2, "{s:?}");
        peak_lines += weeks[&monday];
        for (w, n) in weeks {
            if (*w - monday).abs() > 60 {
                usual_lines += n;
            }
        }
        // Weeks outside the season, active or not, in the data's range.
        usual_weeks += ((last - first) / 7) as usize - 17;
    }
    let (peak, usual) = (
        f64::from(peak_lines) / peaks.len() as f64,
        f64::from(usual_lines) / usual_weeks as f64,
    );
    assert!(
        peak >= 2.0 * usual,
        "{peak} lines a peak week, {usual} otherwise"
    );
    // Their lines are ordinary trade: no line label is benign.
    assert!(d.labels.iter().all(|l| !l.label.starts_with("benign_")));
}

/// The Monday of a day's ISO week.
fn week(day: i32) -> i32 {
    day - (day + 3).rem_euclid(7)
}

/// Lines per (HS6, importer) and ISO week (its Monday).
fn weekly_lines(d: &Data) -> HashMap<(&str, &str), BTreeMap<i32, u32>> {
    let mut weekly: HashMap<(&str, &str), BTreeMap<i32, u32>> = HashMap::new();
    for row in &d.rows {
        *weekly
            .entry((&row.hs_code[..6], row.importer.as_str()))
            .or_default()
            .entry(week(row.date))
            .or_default() += 1;
    }
    weekly
}

/// The value of `"key": ` in `generator.json`, up to the next `,` or `}` (a string
/// keeps its quotes).
fn json_value<'a>(json: &'a str, key: &str) -> &'a str {
    let at = json
        .find(&format!("\"{key}\": "))
        .unwrap_or_else(|| panic!("{key} not in generator.json"))
        + key.len()
        + 4;
    let rest = &json[at..];
    &rest[..rest.find([',', '}']).unwrap()]
}

/// A nomenclature update on 1 January 2026 in 24 months of data: the chosen codes'
/// lines carry the HS 2017 predecessor before it and the HS 2022 code from it on; every
/// importer that bought such a code in the 26 weeks before gets benign series labels
/// for the old code's stop and the new code's start in the 8 weeks from the update's
/// week; the clean profile and a range without a 1 January keep their codes.
#[test]
fn codes_change_at_the_nomenclature_update_labelled_benign() {
    const ROWS_24: u64 = 200_000;
    const SEED_24: u64 = 5;
    let d = Data::generate_months(ROWS_24, SEED_24, Profile::Realistic, 24);
    let civil = crate::generate::calendar::days_from_civil;
    let date = |s: &str| {
        civil(
            s[..4].parse().unwrap(),
            s[5..7].parse().unwrap(),
            s[8..10].parse().unwrap(),
        )
    };
    assert_eq!(json_value(&d.json, "nomenclature_update"), "\"2026-01-01\"");
    let update = civil(2026, 1, 1);
    let first_week = week(update);

    // The codes: HS 2022 code -> its predecessor, as listed in the reference table.
    let at = d.json.find("\"reclassified\": {").unwrap() + 17;
    let map = &d.json[at..at + d.json[at..].find('}').unwrap()];
    let pairs: BTreeMap<String, String> = map
        .split(", ")
        .map(|kv| {
            let (k, v) = kv.split_once(": ").unwrap();
            (
                k.trim_matches('"').to_string(),
                v.trim_matches('"').to_string(),
            )
        })
        .collect();
    let counted: usize = json_value(&d.json, "reclassified_codes").parse().unwrap();
    assert_eq!(counted, pairs.len());
    assert!(
        (3..=reclassification::RECLASSIFIED_CODES).contains(&pairs.len()),
        "{pairs:?}"
    );
    let table: BTreeMap<&str, &str> = crate::reference::hs2017_hs2022_changes()
        .iter()
        .map(|c| (c.hs2022.as_str(), c.hs2017.as_str()))
        .collect();
    for (new, old) in &pairs {
        assert_eq!(
            table.get(new.as_str()),
            Some(&old.as_str()),
            "{new} <- {old}"
        );
    }
    let old_of: BTreeMap<&str, &str> = pairs
        .iter()
        .map(|(n, o)| (o.as_str(), n.as_str()))
        .collect();
    assert_eq!(old_of.len(), pairs.len(), "two codes share a predecessor");

    // Lines: a national code of the catalogue, or a predecessor with a catalogue
    // code's suffix before the update.
    let cat = Catalogue::build(
        ROWS_24,
        &Shape::of(Profile::Realistic),
        &mut Rand::new(SEED_24, STREAM_CATALOGUE),
    );
    let nats: HashSet<&str> = cat.nats.iter().map(|n| n.code.as_str()).collect();
    // (code, before the update?) -> lines; (old code, importer) -> lines in the 26 weeks
    // before the update.
    let mut lines: BTreeMap<(&str, bool), u64> = BTreeMap::new();
    let mut buyers: BTreeMap<&str, BTreeMap<&str, u32>> = BTreeMap::new();
    for r in &d.rows {
        let hs6 = &r.hs_code[..6];
        let before = r.date < update;
        if let Some(new) = old_of.get(hs6) {
            assert!(before, "{r:?}: the predecessor after the update");
            let renamed = format!("{new}{}", &r.hs_code[6..]);
            assert!(
                nats.contains(renamed.as_str()),
                "{r:?}: no such national code"
            );
            if r.date >= update - 7 * reclassification::RECLASSIFICATION_LOOKBACK_WEEKS {
                *buyers
                    .entry(hs6)
                    .or_default()
                    .entry(&r.importer)
                    .or_default() += 1;
            }
        } else {
            assert!(
                nats.contains(r.hs_code.as_str()),
                "{r:?}: not a catalogue code"
            );
            if pairs.contains_key(hs6) {
                assert!(!before, "{r:?}: the HS 2022 code before the update");
            }
        }
        if pairs.contains_key(hs6) || old_of.contains_key(hs6) {
            *lines.entry((hs6, before)).or_default() += 1;
        }
    }
    for (new, old) in &pairs {
        let (b, a) = (
            lines.get(&(old.as_str(), true)),
            lines.get(&(new.as_str(), false)),
        );
        assert!(
            b.is_some() && a.is_some(),
            "{new} <- {old}: lines {b:?} before, {a:?} after"
        );
        // The series are visible: some importer bought it most weeks or so.
        let top = buyers[old.as_str()].values().max().copied().unwrap_or(0);
        assert!(
            top >= 5,
            "{old}: its largest importer had {top} lines in 26 weeks"
        );
    }

    // Labels: each buyer's old and new series in each of the 8 weeks from the update's
    // week, and nothing else.
    let mut want: BTreeSet<(String, String, i32)> = BTreeSet::new();
    for (old, imps) in &buyers {
        for imp in imps.keys() {
            for w in 0..reclassification::RECLASSIFICATION_WEEKS {
                let monday = first_week + 7 * w;
                want.insert((old.to_string(), imp.to_string(), monday));
                want.insert((old_of[old].to_string(), imp.to_string(), monday));
            }
        }
    }
    let got: Vec<(String, String, i32)> = d.series[1..]
        .iter()
        .filter(|s| s[0] == "benign_reclassification")
        .map(|s| {
            assert_eq!(
                (s[1].as_str(), s[6].as_str()),
                ("hs6_importer", "week"),
                "{s:?}"
            );
            (s[2].clone(), s[3].clone(), date(&s[7]))
        })
        .collect();
    assert_eq!(got.len(), want.len(), "labels listed twice");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want);
    assert_eq!(
        d.report.series_labels["benign_reclassification"],
        want.len() as u64
    );
    let weeks: usize = json_value(&d.json, "reclassified_series_weeks")
        .parse()
        .unwrap();
    assert_eq!(weeks, want.len());
    // Other series labels on those codes name the code their week's Monday carries.
    for s in d.series[1..]
        .iter()
        .filter(|s| s[0] != "benign_reclassification")
    {
        let monday = date(&s[7]);
        assert!(
            !(old_of.contains_key(s[2].as_str()) && monday >= update),
            "{s:?}"
        );
        assert!(!(pairs.contains_key(&s[2]) && monday < update), "{s:?}");
    }
    // No line label: the lines are ordinary trade.
    assert!(d.labels.iter().all(|l| !l.label.starts_with("benign_")));

    // The clean profile over the same range keeps every code.
    let c = Data::generate_months(ROWS_24, SEED_24, Profile::Clean, 24);
    let clean_cat = Catalogue::build(
        ROWS_24,
        &Shape::of(Profile::Clean),
        &mut Rand::new(SEED_24, STREAM_CATALOGUE),
    );
    let clean_nats: HashSet<&str> = clean_cat.nats.iter().map(|n| n.code.as_str()).collect();
    assert!(
        c.rows
            .iter()
            .all(|r| clean_nats.contains(r.hs_code.as_str()))
    );
    assert!(!c.json.contains("nomenclature_update"));
    assert!(
        c.series[1..]
            .iter()
            .all(|s| s[0] != "benign_reclassification")
    );
}

/// A range with no 1 January after 8 weeks (the shared 12 months of 2025) has no
/// update: every line keeps its catalogue code and no series is labelled.
#[test]
fn no_nomenclature_update_without_a_first_of_january() {
    let r = realistic();
    let d = &r.data;
    assert_eq!(json_value(&d.json, "nomenclature_update"), "null");
    assert_eq!(json_value(&d.json, "reclassified_codes"), "0");
    assert!(d.rows.iter().all(|row| r.nat_of.contains_key(&row.hs_code)));
    assert!(
        d.series[1..]
            .iter()
            .all(|s| s[0] != "benign_reclassification")
    );
}
