//! Bad input never crashes a scan and never disappears silently.
//!
//! File-level problems (no files, not Parquet, truncated, a missing or wrongly typed
//! column, a corrupt page, a bad configuration) stop the run with exit code 2, one
//! message on stderr naming the file (and column), no panic, and nothing in `--out`.
//! Row-level problems (zero or missing quantities, NaN, unparseable codes, ...) never
//! stop a run: each line is counted in `manifest.json` under its reason.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tempfile::TempDir;

use crate::{list_files, run, scan_args, stderr, write_parquet};

/// 2025-01-01 as days since 1970-01-01.
const JAN_1_2025: i32 = 20_089;

/// `n` clean lines of one comparison group, canonical names and types.
fn clean_batch(n: usize) -> RecordBatch {
    RecordBatch::try_from_iter(vec![
        (
            "declaration_id",
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("D{i:05}")),
            )) as ArrayRef,
        ),
        (
            "line_no",
            Arc::new(Int64Array::from_iter_values((0..n).map(|_| 1))) as ArrayRef,
        ),
        (
            "date",
            Arc::new(Date32Array::from_iter_values(
                (0..n).map(|i| JAN_1_2025 + (i % 28) as i32),
            )) as ArrayRef,
        ),
        (
            "origin",
            Arc::new(StringArray::from_iter_values((0..n).map(|_| "CN"))) as ArrayRef,
        ),
        (
            "hs_code",
            Arc::new(StringArray::from_iter_values((0..n).map(|_| "3926909790"))) as ArrayRef,
        ),
        (
            "quantity",
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| 100.0 + i as f64),
            )) as ArrayRef,
        ),
        (
            "unit",
            Arc::new(StringArray::from_iter_values((0..n).map(|_| "NAR"))) as ArrayRef,
        ),
        (
            "customs_value",
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| (100.0 + i as f64) * (2.0 + (i % 7) as f64 * 0.05)),
            )) as ArrayRef,
        ),
    ])
    .unwrap()
}

/// The same batch with one column replaced (same name, other type).
fn with_column(b: &RecordBatch, name: &str, array: ArrayRef) -> RecordBatch {
    let cols: Vec<(String, ArrayRef)> = b
        .schema()
        .fields()
        .iter()
        .zip(b.columns())
        .map(|(f, c)| {
            if f.name() == name {
                (f.name().clone(), Arc::clone(&array))
            } else {
                (f.name().clone(), Arc::clone(c))
            }
        })
        .collect();
    RecordBatch::try_from_iter(cols).unwrap()
}

/// The failure contract: exit 2, exactly one `tradescan: error:` message on stderr that
/// contains every needle, no panic, and nothing at all written to `out`.
fn assert_clean_failure(o: &Output, out: &Path, needles: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    // One message: it may span lines (a TOML error shows the offending line), but
    // there is exactly one, it comes first, and nothing else is printed.
    assert!(err.starts_with("tradescan: error: "), "message form: {err}");
    assert_eq!(
        err.matches("tradescan: error: ").count(),
        1,
        "one message: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "stderr should mention `{n}`: {err}");
    }
    assert_eq!(
        list_files(out),
        Vec::<PathBuf>::new(),
        "files left in --out"
    );
    err
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn an_empty_directory_is_an_error_naming_it() {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("empty");
    std::fs::create_dir_all(&data).unwrap();
    // A folder of only ignored files counts as empty too.
    std::fs::create_dir_all(data.join("_labels")).unwrap();
    std::fs::write(data.join("_labels/lines.parquet"), b"x").unwrap();
    std::fs::write(data.join("notes.csv"), b"a,b\n").unwrap();
    let out = tmp.path().join("out");
    let o = run(scan_args(None, &[&data], &out, &[]));
    assert_clean_failure(&o, &out, &[&display(&data), "no .parquet files"]);
}

#[test]
fn a_missing_input_is_an_error_naming_it() {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("no-such-folder");
    let out = tmp.path().join("out");
    let o = run(scan_args(None, &[&data], &out, &[]));
    assert_clean_failure(&o, &out, &[&display(&data)]);
}

#[test]
fn a_file_that_is_not_parquet_is_an_error_naming_it() {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_parquet(&data.join("a-good.parquet"), &[clean_batch(40)], None);
    let bad = data.join("b-fake.parquet");
    std::fs::write(&bad, "declaration_id,line_no\nD1,1\n".repeat(50)).unwrap();
    let out = tmp.path().join("out");
    let o = run(scan_args(None, &[&data], &out, &[]));
    let err = assert_clean_failure(&o, &out, &[&display(&bad), "not a readable Parquet file"]);
    assert!(
        !err.contains("a-good.parquet"),
        "blames the wrong file: {err}"
    );

    // inspect reports it too, with exit code 2.
    let o = run([OsStr::new("inspect"), data.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&display(&bad)), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn a_truncated_file_is_an_error_naming_it() {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    let whole = tmp.path().join("whole.parquet");
    write_parquet(&whole, &[clean_batch(200)], None);
    let bytes = std::fs::read(&whole).unwrap();
    let cut = data.join("cut.parquet");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = tmp.path().join("out");
    let o = run(scan_args(None, &[&cut], &out, &[]));
    assert_clean_failure(&o, &out, &[&display(&cut), "not a readable Parquet file"]);

    // Only the footer's last bytes missing: the magic is gone.
    std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
    let o = run(scan_args(None, &[&data], &out, &[]));
    assert_clean_failure(&o, &out, &[&display(&cut)]);
}

#[test]
fn a_missing_mapped_column_is_named() {
    let tmp = TempDir::new().unwrap();
    let file = tmp.path().join("data/lines.parquet");
    write_parquet(&file, &[clean_batch(40)], None);
    let config = tmp.path().join("map.toml");
    std::fs::write(&config, "[columns]\ncustoms_value = \"STAT_VALUE_EUR\"\n").unwrap();
    let out = tmp.path().join("out");
    let o = run(scan_args(Some(&config), &[&file], &out, &[]));
    assert_clean_failure(
        &o,
        &out,
        &[&display(&file), "STAT_VALUE_EUR", "customs_value"],
    );

    // An optional column counts once the user maps it explicitly.
    std::fs::write(&config, "[columns]\nnet_mass_kg = \"NETMASS\"\n").unwrap();
    let o = run(scan_args(Some(&config), &[&file], &out, &[]));
    assert_clean_failure(&o, &out, &[&display(&file), "NETMASS"]);

    // A required column missing without any mapping.
    let bare = tmp.path().join("bare/lines.parquet");
    let b = clean_batch(40);
    let keep: Vec<usize> = (0..b.num_columns())
        .filter(|&i| b.schema().field(i).name() != "hs_code")
        .collect();
    write_parquet(&bare, &[b.project(&keep).unwrap()], None);
    let o = run(scan_args(None, &[&bare], &out, &[]));
    assert_clean_failure(&o, &out, &[&display(&bare), "hs_code"]);
}

#[test]
fn a_wrong_typed_column_names_column_expected_and_found_types() {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    let out = tmp.path().join("out");
    let clean = clean_batch(40);

    // customs_value as strings, in the second of two files.
    write_parquet(&data.join("a.parquet"), std::slice::from_ref(&clean), None);
    let as_text: ArrayRef = Arc::new(StringArray::from_iter_values(
        (0..40).map(|i| format!("{}.50", 100 + i)),
    ));
    let bad = data.join("b.parquet");
    write_parquet(&bad, &[with_column(&clean, "customs_value", as_text)], None);
    let o = run(scan_args(None, &[&data], &out, &[]));
    let err = assert_clean_failure(
        &o,
        &out,
        &[
            &display(&bad),
            "`customs_value`",
            "Utf8",
            "expected an integer, float or decimal column",
        ],
    );
    assert!(!err.contains("a.parquet"), "blames the wrong file: {err}");

    // hs_code as floats, under a mapped name.
    let file = tmp.path().join("float-hs/lines.parquet");
    let as_float: ArrayRef = Arc::new(Float64Array::from_iter_values((0..40).map(|_| 392690.0)));
    let renamed = with_column(&clean, "hs_code", as_float);
    let cols: Vec<(String, ArrayRef)> = renamed
        .schema()
        .fields()
        .iter()
        .zip(renamed.columns())
        .map(|(f, c)| {
            let name = if f.name() == "hs_code" {
                "CN8"
            } else {
                f.name().as_str()
            };
            (name.to_string(), Arc::clone(c))
        })
        .collect();
    write_parquet(&file, &[RecordBatch::try_from_iter(cols).unwrap()], None);
    let config = tmp.path().join("map.toml");
    std::fs::write(&config, "[columns]\nhs_code = \"CN8\"\n").unwrap();
    let o = run(scan_args(Some(&config), &[&file], &out, &[]));
    assert_clean_failure(
        &o,
        &out,
        &[
            &display(&file),
            "`CN8`",
            "hs_code",
            "Float64",
            "expected a string or integer column",
        ],
    );

    // inspect shows the same problem and exits 2.
    let o = run([
        OsStr::new("--config"),
        config.as_os_str(),
        OsStr::new("inspect"),
        file.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("CN8"), "{}", stderr(&o));
}

#[test]
fn a_corrupt_page_names_file_row_group_and_column() {
    let tmp = TempDir::new().unwrap();
    let file = tmp.path().join("data/lines.parquet");
    // Three row groups of 40, uncompressed, dictionary-encoded: each column chunk is a
    // dictionary page followed by a data page.
    let props = WriterProperties::builder()
        .set_compression(Compression::UNCOMPRESSED)
        .set_max_row_group_row_count(Some(40))
        .build();
    write_parquet(&file, &[clean_batch(120)], Some(props));

    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&file).unwrap()).unwrap();
    let meta = reader.metadata().clone();
    assert_eq!(meta.num_row_groups(), 3);
    let rg = meta.row_group(1);
    let ci = (0..rg.num_columns())
        .find(|&i| rg.column(i).column_descr().name() == "customs_value")
        .unwrap();
    let chunk = rg.column(ci);
    let dict = chunk.dictionary_page_offset().expect("a dictionary page") as usize;
    let data_page = chunk.data_page_offset() as usize;
    let end = chunk.byte_range().0 as usize + chunk.byte_range().1 as usize;
    assert!(
        dict < data_page && data_page + 16 < end,
        "data page mid-chunk"
    );

    // Overwrite the data page's header, in the middle of row group 1's customs_value
    // chunk, with bytes no Thrift decoder accepts.
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[data_page..data_page + 16].fill(0xFF);
    std::fs::write(&file, &bytes).unwrap();

    let out = tmp.path().join("out");
    // Batches of 40 line up with the row groups; the default batch (all 120 rows) and
    // batches of 16 span row groups, so the failing batch starts in row group 0.
    for extra in [
        &["--batch-size", "40"][..],
        &[][..],
        &["--batch-size", "16"][..],
    ] {
        let o = run(scan_args(None, &[&file], &out, extra));
        assert_clean_failure(
            &o,
            &out,
            &[&display(&file), "row group 1", "column `customs_value`"],
        );
    }
}

#[test]
fn an_invalid_config_is_an_error_naming_file_and_key() {
    let tmp = TempDir::new().unwrap();
    let file = tmp.path().join("data/lines.parquet");
    write_parquet(&file, &[clean_batch(40)], None);
    let out = tmp.path().join("out");
    let config = tmp.path().join("bad.toml");
    for (text, key) in [
        ("[scan]\nthread = 2\n", "thread"),
        ("[pricing]\nmin_group_size = 5\n", "pricing"),
        ("[columns]\ncustoms_val = \"VALUE\"\n", "customs_val"),
        ("[price]\nmin_group_size = 0\n", "min_group_size"),
        ("[price]\nlevels = [\"hs7+origin\"]\n", "hs7+origin"),
        ("[scan]\nfrom = \"2025-02-30\"\n", "2025-02-30"),
        ("[price\nmin_group_size = 5\n", ""),
    ] {
        std::fs::write(&config, text).unwrap();
        let o = run(scan_args(Some(&config), &[&file], &out, &[]));
        assert_clean_failure(&o, &out, &[&display(&config), key]);
    }
}

#[test]
fn an_unknown_detector_is_an_error_listing_the_known_ones() {
    let tmp = TempDir::new().unwrap();
    let file = tmp.path().join("data/lines.parquet");
    write_parquet(&file, &[clean_batch(40)], None);
    let out = tmp.path().join("out");
    let o = run(scan_args(
        None,
        &[&file],
        &out,
        &["--detectors", "robust-z,zscore"],
    ));
    assert_clean_failure(
        &o,
        &out,
        &["`zscore`", "robust-z", "iqr-fence", "mass-per-unit"],
    );

    let config = tmp.path().join("det.toml");
    std::fs::write(&config, "[price]\ndetectors = [\"benford\"]\n").unwrap();
    let o = run(scan_args(Some(&config), &[&file], &out, &[]));
    assert_clean_failure(&o, &out, &[&display(&config), "`benford`"]);
}

/// One row of the garbage fixture. `None` in a field means null.
#[derive(Debug, Clone)]
struct Row {
    hs: Option<&'static str>,
    origin: &'static str,
    unit: &'static str,
    quantity: Option<f64>,
    mass: Option<f64>,
    value: Option<f64>,
    /// The reason this row must be counted under, `None` for a line that gets scored.
    reason: Option<&'static str>,
}

fn good_nar(i: usize) -> Row {
    let q = 50.0 + (i * 7 % 40) as f64 * 5.0;
    Row {
        hs: Some("3004900000"),
        origin: "IN",
        unit: "NAR",
        quantity: Some(q),
        mass: Some(q * 0.05 * (1.0 + (i * 3 % 40) as f64 / 400.0)),
        value: Some(q * 4.5 * (1.0 + (i * 11 % 40) as f64 / 100.0)),
        reason: None,
    }
}

fn good_kgm(i: usize) -> Row {
    let q = 300.0 + (i * 13 % 40) as f64 * 20.0;
    Row {
        hs: Some("0710809590"),
        origin: "CN",
        unit: "KGM",
        quantity: Some(q),
        mass: Some(q),
        value: Some(q * 1.2 * (1.0 + (i * 17 % 40) as f64 / 100.0)),
        reason: None,
    }
}

/// 40 + 40 clean lines in two groups, 5 lines of a group too small to judge, one KGM
/// line whose NaN net mass falls back to its quantity, and one or more lines of every
/// row-level problem, shuffled by a fixed permutation.
fn garbage_rows() -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    rows.extend((0..40).map(good_nar));
    rows.extend((0..40).map(good_kgm));
    // A KGM line without net mass is priced per kg of its quantity: scored.
    rows.push(Row {
        mass: Some(f64::NAN),
        ..good_kgm(3)
    });
    // A group of 5 at every level of the fallback chain.
    rows.extend((0..5).map(|i| Row {
        hs: Some("8471300000"),
        origin: "DE",
        reason: Some("group_too_small"),
        ..good_nar(i)
    }));
    let bad = |reason: &'static str, base: Row, f: &dyn Fn(Row) -> Row| Row {
        reason: Some(reason),
        ..f(base)
    };
    for i in 0..3 {
        rows.push(bad("zero_quantity", good_nar(i), &|r| Row {
            quantity: Some(0.0),
            ..r
        }));
    }
    for i in 0..2 {
        rows.push(bad("negative_quantity", good_nar(i), &|r| Row {
            quantity: Some(-5.0),
            ..r
        }));
    }
    for i in 0..2 {
        rows.push(bad("missing_quantity", good_nar(i), &|r| Row {
            quantity: None,
            ..r
        }));
    }
    rows.push(bad("missing_quantity", good_nar(9), &|r| Row {
        quantity: Some(f64::NAN),
        ..r
    }));
    for i in 0..2 {
        rows.push(bad("missing_customs_value", good_nar(i), &|r| Row {
            value: None,
            ..r
        }));
    }
    rows.push(bad("missing_customs_value", good_kgm(4), &|r| Row {
        value: Some(f64::NAN),
        ..r
    }));
    rows.push(bad("non_positive_customs_value", good_kgm(5), &|r| Row {
        value: Some(0.0),
        ..r
    }));
    rows.push(bad("non_positive_customs_value", good_kgm(6), &|r| Row {
        value: Some(-10.0),
        ..r
    }));
    for hs in [Some("07A0809590"), Some("ABCDEF"), Some("071"), None] {
        rows.push(bad("bad_hs_code", good_kgm(7), &|r| Row { hs, ..r }));
    }
    rows.push(bad("bad_unit", good_nar(11), &|r| Row {
        unit: "PIECESXYZ",
        ..r
    }));
    rows.push(bad("bad_origin", good_nar(12), &|r| Row {
        origin: "CHINA-MAIN",
        ..r
    }));
    rows.push(bad("zero_net_mass", good_kgm(8), &|r| Row {
        mass: Some(0.0),
        ..r
    }));
    rows.push(bad("non_finite_unit_value", good_kgm(9), &|r| Row {
        quantity: Some(1e-300),
        mass: Some(1e-300),
        value: Some(1e300),
        ..r
    }));

    // Shuffle with a fixed permutation (the count is prime, 37 is coprime to it).
    let n = rows.len();
    assert_eq!(n, 107);
    (0..n).map(|k| rows[k * 37 % n].clone()).collect()
}

fn garbage_batch(rows: &[Row]) -> RecordBatch {
    let n = rows.len();
    RecordBatch::try_from_iter(vec![
        (
            "declaration_id",
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("G{i:04}")),
            )) as ArrayRef,
        ),
        (
            "line_no",
            Arc::new(Int64Array::from_iter_values((0..n).map(|_| 1))) as ArrayRef,
        ),
        (
            "date",
            Arc::new(Date32Array::from_iter_values(
                (0..n).map(|i| JAN_1_2025 + (i % 31) as i32),
            )) as ArrayRef,
        ),
        (
            "origin",
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.origin))) as ArrayRef,
        ),
        (
            "hs_code",
            Arc::new(rows.iter().map(|r| r.hs).collect::<StringArray>()) as ArrayRef,
        ),
        (
            "quantity",
            Arc::new(rows.iter().map(|r| r.quantity).collect::<Float64Array>()) as ArrayRef,
        ),
        (
            "unit",
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.unit))) as ArrayRef,
        ),
        (
            "net_mass_kg",
            Arc::new(rows.iter().map(|r| r.mass).collect::<Float64Array>()) as ArrayRef,
        ),
        (
            "customs_value",
            Arc::new(rows.iter().map(|r| r.value).collect::<Float64Array>()) as ArrayRef,
        ),
    ])
    .unwrap()
}

#[test]
fn row_level_garbage_is_counted_never_fatal() {
    const ROW_GROUP: usize = 25;
    let tmp = TempDir::new().unwrap();
    let rows = garbage_rows();
    let file = tmp.path().join("data/garbage.parquet");
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .build();
    write_parquet(&file, &[garbage_batch(&rows)], Some(props));

    // What was planted, and where each reason first occurs.
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(reason) = r.reason {
            *want.entry(reason.to_string()).or_default() += 1;
            first.entry(reason.to_string()).or_insert(i);
        }
    }
    let skipped: u64 = want.values().sum();
    let scored = rows.iter().filter(|r| r.reason.is_none()).count() as u64;
    assert_eq!(scored, 81);
    assert_eq!(want.len(), 11);

    for threads in ["1", "2"] {
        let out = tmp.path().join(format!("out-{threads}"));
        let o = run(scan_args(
            None,
            &[&file],
            &out,
            // The unit-value detectors: a line without a unit value is skipped for its
            // data reason. (mass-per-unit would still judge a line with a missing value
            // but a valid quantity and mass; the accounting test below covers that.)
            &[
                "--format",
                "csv",
                "--threads",
                threads,
                "--batch-size",
                "10",
                "--detectors",
                "robust-z,iqr-fence",
            ],
        ));
        let err = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(0),
            "garbage rows must not abort: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(out.join("findings.csv").exists());
        let s: serde_json::Value = crate::manifest(&out);
        assert_eq!(s["rows_total"], rows.len());
        assert_eq!(s["rows_read"], rows.len());
        let got: BTreeMap<String, u64> = serde_json::from_value(s["rows_skipped"].clone()).unwrap();
        assert_eq!(got, want, "rows_skipped");
        // The first occurrence of each data-quality reason is located exactly.
        let seen: Vec<&String> = s["first_seen"].as_object().unwrap().keys().collect();
        let want_seen: Vec<&String> = first.keys().collect();
        assert_eq!(seen, want_seen, "first_seen reasons");
        for (reason, &i) in &first {
            let f = &s["first_seen"][reason];
            assert_eq!(f["file"], display(&file), "{reason}");
            assert_eq!(f["row_group"], i / ROW_GROUP, "{reason}: row group");
            assert_eq!(f["row"], i % ROW_GROUP, "{reason}: row");
        }
        let column = |r: &str| s["first_seen"][r]["column"].clone();
        assert_eq!(column("bad_hs_code"), "hs_code");
        assert_eq!(column("zero_quantity"), "quantity");
        assert_eq!(column("missing_customs_value"), "customs_value");
        assert_eq!(column("zero_net_mass"), "net_mass_kg");

        // Garbage never leaks into a score: the clean lines have no outlier.
        assert_eq!(
            s["findings"], 0,
            "no finding expected: {}",
            s["findings_by_detector"]
        );
        // Last, the accounting: a line is scored or skipped for one reason, never both.
        assert_eq!(skipped + scored, rows.len() as u64);
        assert_eq!(s["rows_scored"], scored, "rows_scored");
        assert_eq!(
            s["rows_scored"].as_u64().unwrap() + got.values().sum::<u64>(),
            s["rows_read"].as_u64().unwrap(),
            "every row read is either scored or skipped for one reason"
        );
    }
}

/// Whatever detectors run, every line read is either scored or counted under one
/// reason in `rows_skipped`.
#[test]
fn row_accounting_adds_up_for_every_detector_selection() {
    let tmp = TempDir::new().unwrap();
    let rows = garbage_rows();
    let file = tmp.path().join("data/garbage.parquet");
    write_parquet(&file, &[garbage_batch(&rows)], None);
    let mut wrong = Vec::new();
    for detectors in [
        "robust-z,iqr-fence,mass-per-unit",
        "robust-z",
        "iqr-fence",
        "mass-per-unit",
    ] {
        let out = tmp.path().join(format!("out-{detectors}"));
        let o = run(scan_args(None, &[&file], &out, &["--detectors", detectors]));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let s: serde_json::Value = crate::manifest(&out);
        let skipped: u64 = s["rows_skipped"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(s["rows_read"], rows.len(), "{detectors}");
        let scored = s["rows_scored"].as_u64().unwrap();
        if scored + skipped != rows.len() as u64 {
            wrong.push(format!(
                "--detectors {detectors}: rows_scored {scored} + rows_skipped {skipped} = {} \
                 != rows_read {}; rows_skipped = {}",
                scored + skipped,
                rows.len(),
                s["rows_skipped"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Acceptance dates centuries away (a mistyped year) are counted and kept out of the
/// volume series, so the series keep the data's few periods; price detectors still
/// judge those lines, and nothing is lost from the row accounting.
#[test]
fn dates_out_of_range_are_counted_and_kept_out_of_the_series() {
    let tmp = TempDir::new().unwrap();
    let n = 400;
    let mut days: Vec<Option<i32>> = (0..n).map(|i| Some(JAN_1_2025 + (i % 60) as i32)).collect();
    days[0] = Some(-99_000); // 1698
    days[1] = Some(2_900_000); // year 9909
    days[2] = None;
    let batch = with_column(&clean_batch(n), "date", Arc::new(Date32Array::from(days)));
    let file = tmp.path().join("dates.parquet");
    write_parquet(&file, &[batch], None);
    let out = tmp.path().join("out");
    let o = run(scan_args(None, &[&file], &out, &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    let m = crate::manifest(&out);
    let v = &m["volume"];
    assert_eq!(v["lines_skipped"]["date_out_of_range"], 2, "{v}");
    assert_eq!(v["lines_skipped"]["missing_date"], 1, "{v}");
    assert_eq!(v["lines_used"], (n - 3) as u64, "{v}");
    // 60 days from a Wednesday: 10 ISO weeks, not 11,000 years of them.
    assert!(v["periods"].as_u64().unwrap() <= 10, "{v}");
    assert_eq!(m["rows_read"], n as u64);
    assert_eq!(m["rows_scored"], n as u64, "{m}");
}
