//! The same logical declarations written with different physical types, column names,
//! compression, row-group sizes and file layouts must give the same findings, byte for
//! byte; and how the data is cut for the workers (threads, batch size, row groups) must
//! not change the findings either.
//!
//! The fixture is small and fully known: 3 comparison groups of 41 lines, prices spread
//! log-uniformly-ish around a group price, and exactly one line per group priced at 50x.
//! The expected flags are derived in this file by a naive sort-based robust z and IQR
//! fence over the fixture, not taken from the program.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Date64Array, Decimal128Array, DictionaryArray,
    Float64Array, Int16Array, Int32Array, Int64Array, LargeStringArray,
    LargeStringDictionaryBuilder, RecordBatch, StringArray, StringViewArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Int16Type, Int32Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use tempfile::TempDir;

use crate::{list_files, run, stderr, stdout, write_parquet};

/// 2025-01-01 as days since 1970-01-01.
const JAN_1_2025: i32 = 20_089;
/// Lines per comparison group (40 ordinary + 1 outlier).
const PER_GROUP: usize = 41;
/// Price factor of a planted outlier.
const OUTLIER_FACTOR: f64 = 50.0;

/// One comparison group of the fixture.
struct Group {
    /// Ten-digit national code (the first has a leading zero).
    hs: &'static str,
    /// The same code as a user might store it with dots.
    hs_dotted: &'static str,
    origin: &'static str,
    unit: &'static str,
    /// Price per kg (KGM) or per supplementary unit (other units).
    price: f64,
    /// Kilograms per supplementary unit (non-KGM groups).
    kg_per_unit: f64,
    /// Position of the outlier within the group.
    outlier_at: usize,
}

const GROUPS: [Group; 3] = [
    Group {
        hs: "0710809590",
        hs_dotted: "0710.80.95.90",
        origin: "CN",
        unit: "KGM",
        price: 1.20,
        kg_per_unit: 1.0,
        outlier_at: 17,
    },
    Group {
        hs: "3004900000",
        hs_dotted: "3004.90.00.00",
        origin: "IN",
        unit: "NAR",
        price: 4.50,
        kg_per_unit: 0.05,
        outlier_at: 29,
    },
    Group {
        hs: "9018390000",
        hs_dotted: "9018.39.00.00",
        origin: "DE",
        unit: "NAR",
        price: 0.80,
        kg_per_unit: 0.012,
        outlier_at: 5,
    },
];

/// One logical declaration line. Numbers are kept as integers (cents, grams) so every
/// physical encoding, decimal or float, denotes exactly the same value.
#[derive(Debug, Clone)]
struct Line {
    /// Declaration number: digits only, so it can also be stored as an integer.
    decl: i32,
    line_no: i16,
    /// Days since 1970-01-01.
    day: i32,
    office: &'static str,
    importer: String,
    group: usize,
    qty: i64,
    mass_g: i64,
    value_cents: i64,
    outlier: bool,
}

impl Line {
    fn g(&self) -> &'static Group {
        &GROUPS[self.group]
    }
    fn value(&self) -> f64 {
        self.value_cents as f64 / 100.0
    }
    fn mass(&self) -> f64 {
        self.mass_g as f64 / 1000.0
    }
    /// The unit-value denominator: net mass for KGM, quantity otherwise.
    fn denominator(&self) -> f64 {
        if self.g().unit == "KGM" {
            self.mass()
        } else {
            self.qty as f64
        }
    }
    fn key(&self) -> (String, i64) {
        (self.decl.to_string(), i64::from(self.line_no))
    }
}

/// A permutation of 41 evenly spaced points of [-1, 1].
fn grid(j: usize, mul: usize, shift: usize) -> f64 {
    ((j * mul + shift) % PER_GROUP) as f64 / 20.0 - 1.0
}

/// The fixture: 123 lines, groups interleaved, two lines per declaration, dates from
/// 2025-01-01 to 2025-03-23.
fn lines() -> Vec<Line> {
    (0..GROUPS.len() * PER_GROUP)
        .map(|i| {
            let group = i % GROUPS.len();
            let j = i / GROUPS.len();
            let g = &GROUPS[group];
            let d = (i / 2) as i32;
            let qty = if g.unit == "KGM" {
                200 + ((j * 13) % PER_GROUP) as i64 * 90
            } else {
                100 + ((j * 17) % PER_GROUP) as i64 * 37
            };
            let mass_g = if g.unit == "KGM" {
                qty * 1000
            } else {
                (qty as f64 * g.kg_per_unit * 1000.0 * (0.1 * grid(j, 13, group + 2)).exp()).round()
                    as i64
            };
            let outlier = j == g.outlier_at;
            // Triangular-ish spread of +-0.25 on the log scale.
            let dev = 0.125 * (grid(j, 7, group) + grid(j, 11, group + 5));
            let factor = dev.exp() * if outlier { OUTLIER_FACTOR } else { 1.0 };
            let denominator = if g.unit == "KGM" {
                mass_g as f64 / 1000.0
            } else {
                qty as f64
            };
            Line {
                decl: 250_000_100 + d,
                line_no: (i % 2 + 1) as i16,
                day: JAN_1_2025 + d + d / 3,
                office: if d % 2 == 0 { "BE0101" } else { "BE0202" },
                importer: format!("IM{:06}", d % 5),
                group,
                qty,
                mass_g,
                value_cents: (g.price * factor * denominator * 100.0).round() as i64,
                outlier,
            }
        })
        .collect()
}

/// `YYYY-MM-DD` of a day in 2025.
fn ymd(day: i32) -> String {
    const MONTHS: [i32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut left = day - JAN_1_2025;
    assert!(left >= 0, "fixture dates are in 2025");
    for (m, len) in MONTHS.iter().enumerate() {
        if left < *len {
            return format!("2025-{:02}-{:02}", m + 1, left + 1);
        }
        left -= len;
    }
    panic!("fixture dates are in 2025");
}

fn month_of(day: i32) -> usize {
    ymd(day)[5..7].parse().unwrap()
}

/// DuckDB `quantile_cont` of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let p = (sorted.len() - 1) as f64 * q;
    let lo = p.floor() as usize;
    let hi = p.ceil() as usize;
    sorted[lo] + (p - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Naive reference: the lines a robust z > 3.5 (MAD x 1.4826) and an IQR fence with
/// k = 3 flag within their group, by (detector, declaration, line).
fn reference_flags(lines: &[Line]) -> BTreeSet<(String, String, i64)> {
    let mut out = BTreeSet::new();
    for gi in 0..GROUPS.len() {
        let members: Vec<&Line> = lines.iter().filter(|l| l.group == gi).collect();
        let ln: Vec<f64> = members
            .iter()
            .map(|l| (l.value() / l.denominator()).ln())
            .collect();
        let mut sorted = ln.clone();
        sorted.sort_by(f64::total_cmp);
        let median = quantile(&sorted, 0.5);
        let mut dev: Vec<f64> = ln.iter().map(|x| (x - median).abs()).collect();
        dev.sort_by(f64::total_cmp);
        let mad = quantile(&dev, 0.5);
        let (q1, q3) = (quantile(&sorted, 0.25), quantile(&sorted, 0.75));
        let iqr = q3 - q1;
        for (l, x) in members.iter().zip(&ln) {
            let z = (x - median).abs() / (1.4826 * mad);
            // Keep clear of the thresholds so rounding can never decide the answer.
            assert!(!(3.0..=5.0).contains(&z), "line {:?} has z {z}", l.key());
            if z > 3.5 {
                out.insert(("robust-z".into(), l.key().0, l.key().1));
            }
            if *x > q3 + 3.0 * iqr || *x < q1 - 3.0 * iqr {
                out.insert(("iqr-fence".into(), l.key().0, l.key().1));
            }
        }
    }
    out
}

/// Which logical lines are planted outliers.
fn planted(lines: &[Line]) -> BTreeSet<(String, i64)> {
    lines.iter().filter(|l| l.outlier).map(Line::key).collect()
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

fn arc(a: impl Array + 'static) -> ArrayRef {
    Arc::new(a)
}

/// Canonical names, plain types: utf8, date32, int64 line numbers, float64 numbers.
fn plain(lines: &[Line]) -> RecordBatch {
    let s = |f: fn(&Line) -> String| arc(StringArray::from_iter_values(lines.iter().map(f)));
    batch(vec![
        ("declaration_id", s(|l| l.decl.to_string())),
        (
            "line_no",
            arc(Int64Array::from_iter_values(
                lines.iter().map(|l| i64::from(l.line_no)),
            )),
        ),
        (
            "date",
            arc(Date32Array::from_iter_values(lines.iter().map(|l| l.day))),
        ),
        ("office", s(|l| l.office.to_string())),
        ("importer_id", s(|l| l.importer.clone())),
        ("origin", s(|l| l.g().origin.to_string())),
        ("hs_code", s(|l| l.g().hs.to_string())),
        (
            "quantity",
            arc(Float64Array::from_iter_values(
                lines.iter().map(|l| l.qty as f64),
            )),
        ),
        ("unit", s(|l| l.g().unit.to_string())),
        (
            "net_mass_kg",
            arc(Float64Array::from_iter_values(lines.iter().map(Line::mass))),
        ),
        (
            "customs_value",
            arc(Float64Array::from_iter_values(
                lines.iter().map(Line::value),
            )),
        ),
    ])
}

fn dict32(lines: &[Line], f: fn(&Line) -> &'static str) -> ArrayRef {
    arc(lines.iter().map(f).collect::<DictionaryArray<Int32Type>>())
}

/// Other names; decimal128 value and mass, dictionary strings, a timestamp with a zone
/// (late in the UTC day, so the zone's local date is the next day), int64 declaration
/// ids, int32 line numbers, int64 quantities.
const DECIMAL_DICT_CONFIG: &str = r#"
[columns]
declaration_id = "DECL_NO"
line_no = "ITEM_NO"
date = "ACCEPTED_AT"
office = "OFFICE"
importer_id = "IMPORTER_EORI"
origin = "COUNTRY_OF_ORIGIN"
hs_code = "TARIC_CODE"
quantity = "SUPPL_QTY"
unit = "SUPPL_UNIT"
net_mass_kg = "NET_MASS_KG"
customs_value = "STAT_VALUE_EUR"
"#;

fn decimal_dict(lines: &[Line]) -> RecordBatch {
    const DAY_MS: i64 = 86_400_000;
    let late = 22 * 3_600_000 + 30 * 60_000;
    batch(vec![
        (
            "DECL_NO",
            arc(Int64Array::from_iter_values(
                lines.iter().map(|l| i64::from(l.decl)),
            )),
        ),
        (
            "ITEM_NO",
            arc(Int32Array::from_iter_values(
                lines.iter().map(|l| i32::from(l.line_no)),
            )),
        ),
        (
            "ACCEPTED_AT",
            arc(TimestampMillisecondArray::from_iter_values(
                lines.iter().map(|l| i64::from(l.day) * DAY_MS + late),
            )
            .with_timezone("+05:00")),
        ),
        ("OFFICE", dict32(lines, |l| l.office)),
        (
            "IMPORTER_EORI",
            arc(StringArray::from_iter_values(
                lines.iter().map(|l| l.importer.clone()),
            )),
        ),
        ("COUNTRY_OF_ORIGIN", dict32(lines, |l| l.g().origin)),
        ("TARIC_CODE", dict32(lines, |l| l.g().hs)),
        (
            "SUPPL_QTY",
            arc(Int64Array::from_iter_values(lines.iter().map(|l| l.qty))),
        ),
        ("SUPPL_UNIT", dict32(lines, |l| l.g().unit)),
        (
            "NET_MASS_KG",
            arc(
                Decimal128Array::from_iter_values(lines.iter().map(|l| i128::from(l.mass_g)))
                    .with_precision_and_scale(14, 3)
                    .unwrap(),
            ),
        ),
        (
            "STAT_VALUE_EUR",
            arc(
                Decimal128Array::from_iter_values(lines.iter().map(|l| i128::from(l.value_cents)))
                    .with_precision_and_scale(14, 2)
                    .unwrap(),
            ),
        ),
    ])
}

/// Lower-case names; large utf8 strings, a utf8 view, date64, hs_code as int64 (the
/// leading zero of `0710809590` is lost), a dictionary of large utf8 with int16 keys.
const LARGE_DATE64_CONFIG: &str = r#"
[columns]
declaration_id = "decl_ref"
line_no = "item"
date = "acceptance_date"
office = "customs_office"
importer_id = "importer"
origin = "origin_country"
hs_code = "commodity_code"
quantity = "qty"
unit = "qty_unit"
net_mass_kg = "mass_kg"
customs_value = "value_eur"
"#;

fn large_date64(lines: &[Line]) -> RecordBatch {
    let mut units = LargeStringDictionaryBuilder::<Int16Type>::new();
    for l in lines {
        units.append_value(l.g().unit);
    }
    batch(vec![
        (
            "decl_ref",
            arc(LargeStringArray::from_iter_values(
                lines.iter().map(|l| l.decl.to_string()),
            )),
        ),
        (
            "item",
            arc(Int64Array::from_iter_values(
                lines.iter().map(|l| i64::from(l.line_no)),
            )),
        ),
        (
            "acceptance_date",
            arc(Date64Array::from_iter_values(
                lines.iter().map(|l| i64::from(l.day) * 86_400_000),
            )),
        ),
        (
            "customs_office",
            arc(LargeStringArray::from_iter_values(
                lines.iter().map(|l| l.office),
            )),
        ),
        (
            "importer",
            arc(StringViewArray::from_iter_values(
                lines.iter().map(|l| l.importer.as_str()),
            )),
        ),
        (
            "origin_country",
            arc(LargeStringArray::from_iter_values(
                lines.iter().map(|l| l.g().origin),
            )),
        ),
        (
            "commodity_code",
            arc(Int64Array::from_iter_values(
                lines.iter().map(|l| l.g().hs.parse::<i64>().unwrap()),
            )),
        ),
        (
            "qty",
            arc(Float64Array::from_iter_values(
                lines.iter().map(|l| l.qty as f64),
            )),
        ),
        ("qty_unit", arc(units.finish())),
        (
            "mass_kg",
            arc(Float64Array::from_iter_values(lines.iter().map(Line::mass))),
        ),
        (
            "value_eur",
            arc(Float64Array::from_iter_values(
                lines.iter().map(Line::value),
            )),
        ),
    ])
}

/// Upper-case names; int32 declaration ids, int16 line numbers, `YYYY-MM-DD` string
/// dates, HS codes with dots, utf8 views, decimal quantities and a 4-decimal value.
const STRINGS_DECIMALS_CONFIG: &str = r#"
[columns]
declaration_id = "DECLARATION"
line_no = "LINE"
date = "DATE_ACCEPTED"
office = "OFFICE_CODE"
importer_id = "IMPORTER_ID"
origin = "ORIGIN_ISO2"
hs_code = "CN_CODE"
quantity = "QUANTITY"
unit = "UNIT"
net_mass_kg = "NET_MASS"
customs_value = "VALUE"
"#;

fn strings_decimals(lines: &[Line]) -> RecordBatch {
    let view =
        |f: fn(&Line) -> &'static str| arc(StringViewArray::from_iter_values(lines.iter().map(f)));
    let dec = |f: fn(&Line) -> i128, p: u8, s: i8| {
        arc(Decimal128Array::from_iter_values(lines.iter().map(f))
            .with_precision_and_scale(p, s)
            .unwrap())
    };
    batch(vec![
        (
            "DECLARATION",
            arc(Int32Array::from_iter_values(lines.iter().map(|l| l.decl))),
        ),
        (
            "LINE",
            arc(Int16Array::from_iter_values(
                lines.iter().map(|l| l.line_no),
            )),
        ),
        (
            "DATE_ACCEPTED",
            arc(StringArray::from_iter_values(
                lines.iter().map(|l| ymd(l.day)),
            )),
        ),
        ("OFFICE_CODE", view(|l| l.office)),
        (
            "IMPORTER_ID",
            arc(StringArray::from_iter_values(
                lines.iter().map(|l| l.importer.clone()),
            )),
        ),
        ("ORIGIN_ISO2", view(|l| l.g().origin)),
        ("CN_CODE", view(|l| l.g().hs_dotted)),
        ("QUANTITY", dec(|l| i128::from(l.qty), 10, 0)),
        ("UNIT", view(|l| l.g().unit)),
        ("NET_MASS", dec(|l| i128::from(l.mass_g), 18, 3)),
        ("VALUE", dec(|l| i128::from(l.value_cents) * 100, 20, 4)),
    ])
}

/// How a variant is laid out on disk.
enum Layout {
    /// One file.
    Single,
    /// One file per month in `year=2025/month=MM/part-0.parquet`.
    Hive,
}

struct Variant {
    name: &'static str,
    build: fn(&[Line]) -> RecordBatch,
    props: WriterProperties,
    layout: Layout,
    config: Option<&'static str>,
}

fn variants() -> Vec<Variant> {
    vec![
        Variant {
            name: "plain",
            build: plain,
            props: WriterProperties::builder()
                .set_compression(Compression::UNCOMPRESSED)
                .build(),
            layout: Layout::Single,
            config: None,
        },
        Variant {
            name: "decimal_dictionary_timestamp_zstd",
            build: decimal_dict,
            props: WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap()))
                .set_max_row_group_row_count(Some(16))
                .build(),
            layout: Layout::Single,
            config: Some(DECIMAL_DICT_CONFIG),
        },
        Variant {
            name: "large_utf8_date64_int_hs_snappy_hive",
            build: large_date64,
            props: WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(7))
                .build(),
            layout: Layout::Hive,
            config: Some(LARGE_DATE64_CONFIG),
        },
        Variant {
            name: "int32_ids_string_dates_decimals_small_pages",
            build: strings_decimals,
            props: WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .set_dictionary_enabled(false)
                .set_write_batch_size(8)
                .set_data_page_row_count_limit(8)
                .set_max_row_group_row_count(Some(50))
                .build(),
            layout: Layout::Single,
            config: Some(STRINGS_DECIMALS_CONFIG),
        },
    ]
}

/// Write a variant under `root/<name>/data` (and its config beside); returns the data
/// folder and the config path.
fn write_variant(root: &Path, v: &Variant, lines: &[Line]) -> (PathBuf, Option<PathBuf>) {
    let dir = root.join(v.name);
    let data = dir.join("data");
    match v.layout {
        Layout::Single => {
            write_parquet(
                &data.join("lines.parquet"),
                &[(v.build)(lines)],
                Some(v.props.clone()),
            );
        }
        Layout::Hive => {
            let mut by_month: BTreeMap<usize, Vec<Line>> = BTreeMap::new();
            for l in lines {
                by_month.entry(month_of(l.day)).or_default().push(l.clone());
            }
            assert!(by_month.len() >= 3, "the fixture spans three months");
            for (m, part) in by_month {
                let path = data.join(format!("year=2025/month={m:02}/part-0.parquet"));
                write_parquet(&path, &[(v.build)(&part)], Some(v.props.clone()));
            }
        }
    }
    let config = v.config.map(|text| {
        let p = dir.join("tradescan.toml");
        std::fs::write(&p, text).unwrap();
        p
    });
    (data, config)
}

/// Run `tradescan scan` and return the output folder; panics with stderr on failure.
fn scan(inputs: &[&Path], out: &Path, config: Option<&Path>, extra: &[&str]) -> PathBuf {
    let mut args = crate::scan_args(config, inputs, out, extra);
    args.push("--quiet".into());
    let o = run(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "scan {inputs:?} {extra:?} failed: {}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked"));
    out.to_path_buf()
}

/// Read a findings CSV with the product's findings schema.
fn read_findings_csv(path: &Path) -> Vec<RecordBatch> {
    let reader = arrow::csv::ReaderBuilder::new(tradescan::report::findings_schema())
        .with_header(true)
        .build(File::open(path).unwrap())
        .unwrap();
    reader.map(|b| b.unwrap()).collect()
}

fn string_column(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let a = arrow::compute::cast(b.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
    a.as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

fn i64_column(b: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let a = arrow::compute::cast(b.column_by_name(name).unwrap(), &DataType::Int64).unwrap();
    a.as_primitive::<Int64Type>().iter().collect()
}

/// (detector, declaration_id, line_no) of every finding.
fn flagged(batches: &[RecordBatch]) -> Vec<(String, String, i64)> {
    let mut out = Vec::new();
    for b in batches {
        let det = string_column(b, "detector");
        let decl = string_column(b, "declaration_id");
        let line = i64_column(b, "line_no");
        let series = string_column(b, "series_key");
        for i in 0..b.num_rows() {
            if series[i].is_some() {
                continue;
            }
            out.push((
                det[i].clone().unwrap(),
                decl[i].clone().expect("findings carry the declaration id"),
                line[i].expect("findings carry the line number"),
            ));
        }
    }
    out
}

/// Every variant's run record must describe the same 123 clean lines and 6 findings.
fn assert_summary(name: &str, s: &serde_json::Value, lines: &[Line], files: u64) {
    let n = lines.len() as u64;
    assert_eq!(s["files"], files, "{name}: files");
    assert_eq!(s["rows_total"], n, "{name}: rows_total");
    assert_eq!(s["rows_read"], n, "{name}: rows_read");
    assert_eq!(s["rows_scored"], n, "{name}: rows_scored");
    assert_eq!(
        s["rows_skipped"],
        serde_json::json!({}),
        "{name}: rows_skipped"
    );
    let outliers = planted(lines).len() as u64;
    assert_eq!(
        s["findings_by_detector"],
        serde_json::json!({"robust-z": outliers, "iqr-fence": outliers}),
        "{name}: findings_by_detector"
    );
    assert_eq!(s["lines_flagged"], outliers, "{name}: lines_flagged");
}

#[test]
fn reference_flags_are_exactly_the_planted_outliers() {
    let lines = lines();
    let want: BTreeSet<(String, String, i64)> = planted(&lines)
        .into_iter()
        .flat_map(|(d, l)| {
            [
                ("robust-z".to_string(), d.clone(), l),
                ("iqr-fence".to_string(), d, l),
            ]
        })
        .collect();
    assert_eq!(want.len(), 2 * GROUPS.len());
    assert_eq!(reference_flags(&lines), want);
}

#[test]
fn scan_finds_exactly_the_planted_outliers() {
    let tmp = TempDir::new().unwrap();
    let lines = lines();
    let want = reference_flags(&lines);
    let vs = variants();

    // CSV of the plain encoding.
    let (data, config) = write_variant(tmp.path(), &vs[0], &lines);
    let out = scan(
        &[data.as_path()],
        &tmp.path().join("out-csv"),
        config.as_deref(),
        &["--format", "csv"],
    );
    let batches = read_findings_csv(&out.join("findings.csv"));
    let got = flagged(&batches);
    assert_eq!(
        got.len(),
        want.len(),
        "one finding per detector and outlier"
    );
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), want);
    assert_summary(vs[0].name, &crate::manifest(&out), &lines, 1);

    // Evidence of each finding: the most specific group, all 41 lines, priced high; the
    // HS code keeps its leading zero.
    let mut hs_seen: BTreeMap<String, usize> = BTreeMap::new();
    for b in &batches {
        let levels = string_column(b, "group_level");
        let sizes = i64_column(b, "group_size");
        let directions = string_column(b, "direction");
        for (i, hs) in string_column(b, "hs_code").into_iter().enumerate() {
            assert_eq!(levels[i].as_deref(), Some("hs+origin+unit"));
            assert_eq!(sizes[i], Some(PER_GROUP as i64), "group size");
            assert_eq!(directions[i].as_deref(), Some("high"));
            *hs_seen.entry(hs.unwrap()).or_default() += 1;
        }
    }
    let want_hs: BTreeMap<String, usize> = GROUPS.iter().map(|g| (g.hs.to_string(), 2)).collect();
    assert_eq!(
        hs_seen, want_hs,
        "one outlier per group, two detectors each"
    );

    // Parquet findings of the decimal/dictionary encoding, read back with the parquet
    // reader: the same lines.
    let (data, config) = write_variant(tmp.path(), &vs[1], &lines);
    let out = scan(
        &[data.as_path()],
        &tmp.path().join("out-pq"),
        config.as_deref(),
        &["--format", "parquet"],
    );
    let got: BTreeSet<_> = flagged(&crate::read_parquet(&out.join("findings.parquet")))
        .into_iter()
        .collect();
    assert_eq!(got, want);
}

#[test]
fn every_encoding_gives_byte_identical_findings() {
    let tmp = TempDir::new().unwrap();
    let lines = lines();
    let mut reference: Option<(&str, Vec<u8>)> = None;
    for v in variants() {
        let (data, config) = write_variant(tmp.path(), &v, &lines);
        let files = list_files(&data).len() as u64;
        let out = scan(
            &[&data],
            &tmp.path().join(v.name).join("out"),
            config.as_deref(),
            &["--format", "csv"],
        );
        assert_summary(v.name, &crate::manifest(&out), &lines, files);
        let csv = std::fs::read(out.join("findings.csv")).unwrap();
        let got: BTreeSet<_> = flagged(&read_findings_csv(&out.join("findings.csv")))
            .into_iter()
            .collect();
        assert_eq!(got, reference_flags(&lines), "{}: flagged lines", v.name);
        match &reference {
            None => reference = Some((v.name, csv)),
            Some((name, want)) => {
                if *want != csv {
                    panic!(
                        "findings of {} differ from those of {name}:\n--- {name}\n{}\n--- {}\n{}",
                        v.name,
                        String::from_utf8_lossy(want),
                        v.name,
                        String::from_utf8_lossy(&csv)
                    );
                }
            }
        }
    }
}

#[test]
fn the_hive_variant_really_is_split_and_typed_as_intended() {
    // Guard the fixture itself: if the writer silently changed a type, the identity
    // test above would prove less than it claims.
    let tmp = TempDir::new().unwrap();
    let lines = lines();
    let vs = variants();
    let (data, _) = write_variant(tmp.path(), &vs[2], &lines);
    let files = list_files(&data);
    assert_eq!(
        files,
        vec![
            PathBuf::from("year=2025/month=01/part-0.parquet"),
            PathBuf::from("year=2025/month=02/part-0.parquet"),
            PathBuf::from("year=2025/month=03/part-0.parquet"),
        ]
    );
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(File::open(data.join(&files[0])).unwrap())
            .unwrap();
    let schema = reader.schema().clone();
    assert!(reader.metadata().num_row_groups() > 1);
    let ty = |n: &str| schema.field_with_name(n).unwrap().data_type().clone();
    assert_eq!(ty("decl_ref"), DataType::LargeUtf8);
    assert_eq!(ty("acceptance_date"), DataType::Date64);
    assert_eq!(ty("commodity_code"), DataType::Int64);
    assert_eq!(ty("importer"), DataType::Utf8View);
    assert!(matches!(ty("qty_unit"), DataType::Dictionary(..)));
}

#[test]
fn inspect_reports_mapped_columns_types_and_date_range() {
    let tmp = TempDir::new().unwrap();
    let lines = lines();
    let v = &variants()[1];
    let (data, config) = write_variant(tmp.path(), v, &lines);
    let config = config.unwrap();
    let file = data.join("lines.parquet");
    let written = (v.build)(&lines).schema();
    let mapping: BTreeMap<&str, &str> = DECIMAL_DICT_CONFIG
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim(), v.trim().trim_matches('"')))
        .collect();
    assert_eq!(mapping.len(), 11);
    let first = ymd(lines.iter().map(|l| l.day).min().unwrap());
    let last = ymd(lines.iter().map(|l| l.day).max().unwrap());
    assert_eq!(
        (first.as_str(), last.as_str()),
        ("2025-01-01", "2025-03-23")
    );

    let o = run([
        OsStr::new("--config"),
        config.as_os_str(),
        OsStr::new("inspect"),
        file.as_os_str(),
        OsStr::new("--json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let reports: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let r = &reports.as_array().unwrap()[0];
    assert_eq!(reports.as_array().unwrap().len(), 1);
    assert_eq!(r["path"], file.display().to_string());
    assert_eq!(r["rows"], lines.len());
    assert_eq!(r["row_groups"], lines.len().div_ceil(16));
    assert_eq!(r["bytes"], std::fs::metadata(&file).unwrap().len());
    // UTC dates, not the +05:00 local dates (which would end a day later).
    assert_eq!(r["date_min"], first);
    assert_eq!(r["date_max"], last);
    assert!(r["problem"].is_null(), "{}", r["problem"]);
    let columns = r["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 12);
    for c in columns {
        let canonical = c["canonical"].as_str().unwrap();
        match mapping.get(canonical) {
            Some(user) => {
                assert_eq!(c["column"], *user, "{canonical}");
                let want = written
                    .field_with_name(user)
                    .unwrap()
                    .data_type()
                    .to_string();
                assert_eq!(c["found"], want, "{canonical}: type of {user}");
            }
            None => {
                // declarant_id is neither mapped nor present.
                assert_eq!(canonical, "declarant_id");
                assert_eq!(c["column"], "declarant_id");
                assert!(c["found"].is_null());
                assert_eq!(c["required"], false);
            }
        }
    }

    // The table form says the same.
    let o = run([
        OsStr::new("--config"),
        config.as_os_str(),
        OsStr::new("inspect"),
        file.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains(&format!("dates {first} .. {last}")), "{text}");
    assert!(text.contains(&format!("{} rows", lines.len())), "{text}");
    for (canonical, user) in &mapping {
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{canonical} ")))
            .unwrap_or_else(|| panic!("no row for {canonical} in\n{text}"));
        assert!(row.contains(user), "{row}");
        let ty = written
            .field_with_name(user)
            .unwrap()
            .data_type()
            .to_string();
        assert!(row.contains(&ty), "{row} should show {ty}");
    }
}

/// Copy every Parquet file under `src` to `dst` (same relative paths, or one file when
/// `single`), rewritten with row groups of `rows` rows.
fn rewrite(src: &Path, dst: &Path, rows: usize, single: bool) {
    let props = || {
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(rows))
            .build()
    };
    let mut all = Vec::new();
    for rel in list_files(src) {
        if rel.extension().and_then(|e| e.to_str()) != Some("parquet")
            || rel
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('_'))
        {
            continue;
        }
        let batches: Vec<RecordBatch> =
            ParquetRecordBatchReaderBuilder::try_new(File::open(src.join(&rel)).unwrap())
                .unwrap()
                .build()
                .unwrap()
                .map(|b| b.unwrap())
                .collect();
        if single {
            all.extend(batches);
        } else {
            write_parquet(&dst.join(&rel), &batches, Some(props()));
        }
    }
    if single {
        write_parquet(&dst.join("all.parquet"), &all, Some(props()));
    }
}

fn row_groups(dir: &Path) -> usize {
    list_files(dir)
        .iter()
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("parquet"))
        .filter(|p| !p.to_string_lossy().starts_with('_'))
        .map(|p| {
            ParquetRecordBatchReaderBuilder::try_new(File::open(dir.join(p)).unwrap())
                .unwrap()
                .metadata()
                .num_row_groups()
        })
        .sum()
}

#[test]
fn threads_batch_sizes_and_row_groups_do_not_change_findings() {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    let report = crate::generate(&data, 60_000, 7);
    assert_eq!(report.rows, 60_000);
    assert!(
        report.files.len() > 2,
        "several files, so several scan units"
    );

    let base = scan(
        &[data.as_path()],
        &tmp.path().join("base"),
        None,
        &["--format", "csv", "--threads", "1"],
    );
    let want = std::fs::read(base.join("findings.csv")).unwrap();
    let n = flagged(&read_findings_csv(&base.join("findings.csv"))).len();
    assert!(n >= 100, "the generated data should give findings, got {n}");
    let s = crate::manifest(&base);
    assert_eq!(s["rows_read"], 60_000);

    let mut runs: Vec<(String, PathBuf, Vec<&str>)> = Vec::new();
    for t in ["2", "8"] {
        runs.push((format!("--threads {t}"), data.clone(), vec!["--threads", t]));
    }
    for b in ["1", "7", "1024"] {
        runs.push((
            format!("--batch-size {b}"),
            data.clone(),
            vec!["--threads", "2", "--batch-size", b],
        ));
    }
    for (name, rows, single) in [
        ("row groups of 1000", 1000, false),
        ("row groups of 97", 97, false),
        ("one file, row groups of 1500", 1500, true),
    ] {
        let dst = tmp.path().join(name.replace([' ', ','], "_"));
        rewrite(&data, &dst, rows, single);
        assert!(
            row_groups(&dst) > row_groups(&data),
            "{name}: the rewrite has more row groups"
        );
        runs.push((name.to_string(), dst, vec!["--threads", "2"]));
    }

    for (i, (name, input, extra)) in runs.iter().enumerate() {
        let mut args = extra.clone();
        args.extend(["--format", "csv"]);
        let out = scan(
            &[input.as_path()],
            &tmp.path().join(format!("out-{i}")),
            None,
            &args,
        );
        let got = std::fs::read(out.join("findings.csv")).unwrap();
        assert!(
            got == want,
            "{name}: findings differ from --threads 1 ({} vs {} bytes)",
            got.len(),
            want.len()
        );
        let s2 = crate::manifest(&out);
        for key in [
            "rows_read",
            "rows_scored",
            "rows_skipped",
            "findings_by_detector",
            "lines_per_level",
            "groups_per_level",
            "no_spread",
            "withdrawn_by_local_check",
            "findings_by_level",
            "findings_by_watch_family",
        ] {
            assert_eq!(s2[key], s[key], "{name}: summary {key}");
        }
    }
}
