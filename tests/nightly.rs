//! Nightly operations: failure behaviour and exit codes, the run manifest, atomic
//! outputs, determinism across thread counts, the inspection budget, the random audit
//! and watch-family restriction.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::{list_files, manifest, read_parquet, run, scan_args, stderr, tradescan, write_parquet};

fn rows_accounted(m: &serde_json::Value) -> u64 {
    m["rows_scored"].as_u64().unwrap()
        + m["rows_skipped"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>()
}

/// The first generated month file under `data`.
fn month_files(data: &Path) -> Vec<PathBuf> {
    list_files(data)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .map(|p| data.join(p))
        .collect()
}

/// Overwrite the header of the first data page of `column` in row group 0.
fn corrupt_page(file: &Path, column: &str) {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(file).unwrap()).unwrap();
    let rg = reader.metadata().row_group(0).clone();
    let ci = (0..rg.num_columns())
        .find(|&i| rg.column(i).column_descr().name() == column)
        .unwrap();
    let at = rg.column(ci).data_page_offset() as usize;
    let mut bytes = std::fs::read(file).unwrap();
    bytes[at..at + 16].fill(0xFF);
    std::fs::write(file, &bytes).unwrap();
}

#[test]
fn keep_going_skips_bad_files_lists_them_and_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 24_000, 11);
    let files = month_files(&data);
    // One truncated partition (footer unreadable), one with a corrupt page.
    let truncated = files[2].clone();
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let corrupt = files[5].clone();
    corrupt_page(&corrupt, "customs_value");

    let out = tmp.path().join("out");
    let o = run(scan_args(None, &[&data], &out, &[]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&truncated.display().to_string()));
    assert!(list_files(&out).is_empty(), "a failed run leaves no output");

    let o = run(scan_args(None, &[&data], &out, &["--keep-going"]));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
    let m = manifest(&out);
    let skipped = m["inputs_skipped"].as_array().unwrap();
    let paths: BTreeSet<&str> = skipped
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        BTreeSet::from([truncated.to_str().unwrap(), corrupt.to_str().unwrap()])
    );
    let corrupt_entry = skipped
        .iter()
        .find(|s| s["path"] == corrupt.to_str().unwrap())
        .unwrap();
    assert!(
        corrupt_entry["error"]
            .as_str()
            .unwrap()
            .contains("customs_value")
    );
    // The corrupt file's rows are known and counted as skipped; the truncated one's
    // footer is gone, so its rows are unknown and not in rows_total.
    let corrupt_rows = corrupt_entry["rows"].as_u64().unwrap();
    assert_eq!(m["rows_skipped"]["unreadable_input"], corrupt_rows);
    assert_eq!(rows_accounted(&m), m["rows_total"].as_u64().unwrap());
    assert_eq!(m["inputs"].as_array().unwrap().len(), files.len() - 1);
}

#[test]
fn fail_on_findings_exits_1_at_the_threshold() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 20_000, 2);
    let out = tmp.path().join("out");
    let o = run(scan_args(None, &[&data], &out, &[]));
    assert_eq!(o.status.code(), Some(0));
    let n = manifest(&out)["findings"].as_u64().unwrap();
    assert!(n > 0);
    let o = run(scan_args(None, &[&data], &out, &["--fail-on-findings"]));
    assert_eq!(o.status.code(), Some(1));
    let at = n.to_string();
    let o = run(scan_args(
        None,
        &[&data],
        &out,
        &["--fail-on-findings", &at],
    ));
    assert_eq!(o.status.code(), Some(1));
    let above = (n + 1).to_string();
    let o = run(scan_args(
        None,
        &[&data],
        &out,
        &["--fail-on-findings", &above],
    ));
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn one_and_two_threads_write_identical_findings_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 40_000, 4);
    let scan = |threads: &str, name: &str| {
        let out = tmp.path().join(name);
        let mut args = vec!["--threads".into(), threads.into()];
        args.extend(scan_args(
            None,
            &[&data],
            &out,
            &["--random-audit", "0.01", "--seed", "9"],
        ));
        let o = run(args);
        assert!(o.status.success(), "{}", stderr(&o));
        let mut m = manifest(&out);
        m.as_object_mut().unwrap().remove("timings_ms");
        m.as_object_mut().unwrap().remove("execution");
        (std::fs::read(out.join("findings.parquet")).unwrap(), m)
    };
    let (f1, m1) = scan("1", "t1");
    let (f2, m2) = scan("2", "t2");
    assert!(f1 == f2, "findings differ between 1 and 2 threads");
    assert_eq!(m1, m2);
    // The manifest describes the inputs and the findings file.
    let inputs = m1["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), month_files(&data).len());
    assert!(
        inputs
            .iter()
            .all(|i| i["fingerprint"].as_str().unwrap().len() == 32)
    );
    assert_eq!(m1["outputs"][0]["file"], "findings.parquet");
    assert_eq!(m1["manifest_version"], 1);
    assert_eq!(m1["config_hash"].as_str().unwrap().len(), 32);
}

#[test]
fn budget_keeps_the_highest_risk_items_and_audit_lines_are_a_seeded_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 30_000, 5);
    let read = |out: &Path| -> Vec<BTreeMap<String, String>> {
        let o = run([
            "eval".as_ref(),
            "--findings".as_ref(),
            out.as_os_str(),
            "--labels".as_ref(),
            data.join("_labels").as_os_str(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(out.join("findings.csv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        lines
            .map(|l| {
                // Only the leading columns are read: they hold no commas.
                header
                    .iter()
                    .cloned()
                    .zip(l.split(',').map(String::from))
                    .collect()
            })
            .collect()
    };
    let scan = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        let mut args = vec!["--format", "csv"];
        args.extend_from_slice(extra);
        let o = run(scan_args(None, &[&data], &out, &args));
        assert!(o.status.success(), "{}", stderr(&o));
        out
    };
    let all = read(&scan("all", &[]));
    let kept = read(&scan("budget", &["--budget", "25"]));
    let line = |r: &BTreeMap<String, String>| (r["declaration_id"].clone(), r["line_no"].clone());
    let kept_lines: BTreeSet<_> = kept
        .iter()
        .filter(|r| !r["declaration_id"].is_empty())
        .map(line)
        .collect();
    let series = kept
        .iter()
        .filter(|r| r["declaration_id"].is_empty())
        .count();
    assert_eq!(kept_lines.len() + series, 25, "25 inspection items");
    // The kept items are the top of the full ranking: an item's risk is its `risk`
    // (the same on every finding of a line), and every line riskier than the least
    // risky kept item is kept.
    let risk = |rows: &[BTreeMap<String, String>]| {
        let mut r: BTreeMap<(String, String), f64> = BTreeMap::new();
        for row in rows.iter().filter(|r| !r["declaration_id"].is_empty()) {
            let s = row["risk"].parse::<f64>().unwrap();
            let e = r.entry(line(row)).or_insert(s);
            *e = e.max(s);
        }
        r
    };
    let kept_risk = risk(&kept);
    let series_scores = kept
        .iter()
        .filter(|r| r["declaration_id"].is_empty())
        .map(|r| r["score"].parse::<f64>().unwrap());
    let cut = kept_risk
        .values()
        .copied()
        .chain(series_scores)
        .fold(f64::INFINITY, f64::min);
    for (item, r) in risk(&all) {
        if r > cut {
            assert!(
                kept_risk.contains_key(&item),
                "{item:?} (risk {r}) above the cut {cut}"
            );
        }
    }
    let m = manifest(&tmp.path().join("budget"));
    assert_eq!(m["budget"]["items_kept"], 25);

    // Random audit: lines without a finding, seeded.
    let a = read(&scan("audit_a", &["--random-audit", "0.02", "--seed", "1"]));
    let b = read(&scan("audit_b", &["--random-audit", "0.02", "--seed", "1"]));
    let c = read(&scan("audit_c", &["--random-audit", "0.02", "--seed", "2"]));
    let audit = |rows: &[BTreeMap<String, String>]| -> BTreeSet<(String, String)> {
        rows.iter()
            .filter(|r| r["detector"] == "random-audit")
            .map(line)
            .collect()
    };
    let flagged: BTreeSet<_> = all
        .iter()
        .filter(|r| !r["declaration_id"].is_empty())
        .map(line)
        .collect();
    let (sa, sb, sc) = (audit(&a), audit(&b), audit(&c));
    assert_eq!(sa, sb);
    assert_ne!(sa, sc);
    assert!(sa.is_disjoint(&flagged), "audit lines have no finding");
    // About 2% of the ~29,000 unflagged lines.
    assert!((400..800).contains(&sa.len()), "{} audit lines", sa.len());
}

#[test]
fn a_failed_write_keeps_the_previous_outputs_and_a_killed_scan_leaves_none() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 30_000, 6);
    let out = tmp.path().join("out");
    let o = run(scan_args(None, &[&data], &out, &[]));
    assert!(o.status.success());
    let before = std::fs::read(out.join("findings.parquet")).unwrap();

    // Last night's manifest is replaced by a folder: the new run cannot commit.
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    std::fs::create_dir(out.join("manifest.json")).unwrap();
    let o = run(scan_args(
        None,
        &[&data],
        &out,
        &["--detectors", "robust-z"],
    ));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("manifest.json"), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("findings.parquet")).unwrap(), before);
    let names: Vec<PathBuf> = list_files(&out);
    assert!(
        names.iter().all(|n| !n.to_string_lossy().contains(".tmp")),
        "{names:?}"
    );

    // A scan killed part-way leaves no file in a fresh output folder.
    let big = tmp.path().join("big");
    crate::generate(&big, 400_000, 7);
    let out2 = tmp.path().join("out2");
    let mut child = tradescan()
        .args(scan_args(None, &[&big], &out2, &[]))
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _ = child.kill();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the scan ended before it was killed");
    assert!(
        list_files(&out2).is_empty(),
        "a killed scan left {:?}",
        list_files(&out2)
    );
}

#[test]
fn watch_restricts_the_scan_and_users_lists_add_families() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 60_000, 8);
    let out = tmp.path().join("out");
    let o = run(scan_args(
        None,
        &[&data],
        &out,
        &["--watch", "medical_supplies", "--format", "csv"],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(out.join("findings.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let fam = header.iter().position(|h| *h == "watch_family").unwrap();
    let n = lines
        .map(|l| {
            // watch_family comes before the quoted explanation: split is safe up to it.
            let f: Vec<&str> = l.split(',').collect();
            assert!(f[fam].contains("medical_supplies"), "{l}");
        })
        .count();
    assert!(n > 0);
    let m = manifest(&out);
    assert!(m["rows_skipped"]["not_in_watched_family"].as_u64().unwrap() > 0);
    assert_eq!(rows_accounted(&m), m["rows_total"].as_u64().unwrap());

    // A user's list, in the config beside it; and an unknown family is an error.
    let cfg_dir = tmp.path().join("cfg");
    std::fs::create_dir_all(&cfg_dir).unwrap();
    std::fs::write(
        cfg_dir.join("mine.csv"),
        "family,hs_prefix,description\nmy_watch,0101,horses\n",
    )
    .unwrap();
    let cfg = cfg_dir.join("tradescan.toml");
    std::fs::write(&cfg, "[watch]\nlists = [\"mine.csv\"]\n").unwrap();
    let o = run(["--config".as_ref(), cfg.as_os_str(), "watchlists".as_ref()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(crate::stdout(&o).contains("my_watch"));
    let o = run(scan_args(
        Some(&cfg),
        &[&data],
        &tmp.path().join("o2"),
        &["--watch", "nope"],
    ));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown watch family `nope`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn zero_row_files_and_all_null_columns_are_counted_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let batch = |n: usize, value: Option<f64>| {
        let cols: Vec<(&str, ArrayRef)> = vec![
            (
                "declaration_id",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("D{i}")),
                )),
            ),
            (
                "date",
                Arc::new(Date32Array::from_iter_values(
                    (0..n).map(|i| 20_100 + (i % 20) as i32),
                )),
            ),
            (
                "hs_code",
                Arc::new(StringArray::from_iter_values((0..n).map(|_| "3004900000"))),
            ),
            (
                "quantity",
                Arc::new(Float64Array::from_iter_values(
                    (0..n).map(|i| 1.0 + i as f64),
                )),
            ),
            (
                "customs_value",
                Arc::new(Float64Array::from_iter(
                    (0..n).map(|i| value.map(|v| v * (1.0 + i as f64))),
                )),
            ),
        ];
        RecordBatch::try_from_iter(cols).unwrap()
    };
    let data = tmp.path().join("data");
    write_parquet(&data.join("a.parquet"), &[batch(50, Some(10.0))], None);
    write_parquet(&data.join("empty.parquet"), &[batch(0, Some(1.0))], None);
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    write_parquet(&data.join("nulls.parquet"), &[batch(30, None)], Some(props));
    let out = tmp.path().join("out");
    let o = run(scan_args(None, &[&data], &out, &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&out);
    assert_eq!(m["files"], 3);
    assert_eq!(m["rows_total"], 80);
    assert_eq!(m["rows_skipped"]["missing_customs_value"], 30);
    assert_eq!(rows_accounted(&m), 80);
}

/// (detector, declaration, line, series key, hs6, importer, origin, office, period
/// start, score bits) of every finding.
type Key = (
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i32>,
    Option<i32>,
    u64,
);

/// A primitive column of a batch, by name.
fn column<T: arrow::datatypes::ArrowPrimitiveType>(
    b: &RecordBatch,
    name: &str,
) -> arrow::array::PrimitiveArray<T> {
    use arrow::array::AsArray;
    b.column_by_name(name).unwrap().as_primitive::<T>().clone()
}

fn finding_keys(path: &Path) -> Vec<Key> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Date32Type, Float64Type, Int64Type};
    let mut out = Vec::new();
    for b in read_parquet(path) {
        let s = |n: &str| b.column_by_name(n).unwrap().as_string::<i32>().clone();
        let (det, decl, key, hs6, imp, ori, off) = (
            s("detector"),
            s("declaration_id"),
            s("series_key"),
            s("hs6"),
            s("importer_id"),
            s("origin"),
            s("office"),
        );
        let line = column::<Int64Type>(&b, "line_no");
        let date = column::<Date32Type>(&b, "date");
        let start = column::<Date32Type>(&b, "period_start");
        let score = column::<Float64Type>(&b, "score");
        let opt =
            |a: &arrow::array::StringArray, i: usize| a.is_valid(i).then(|| a.value(i).to_string());
        for i in 0..b.num_rows() {
            out.push((
                det.value(i).to_string(),
                opt(&decl, i),
                line.is_valid(i).then(|| line.value(i)),
                opt(&key, i),
                hs6.value(i).to_string(),
                opt(&imp, i),
                opt(&ori, i),
                opt(&off, i),
                date.is_valid(i).then(|| date.value(i)),
                start.is_valid(i).then(|| start.value(i)),
                score.value(i).to_bits(),
            ));
        }
    }
    out
}

/// Fit on `files`, score `night` against the baseline and scan everything in one go,
/// all with `config`: (night findings dir, full scan findings dir).
fn night_and_full(
    tmp: &Path,
    config: &Path,
    files: &[PathBuf],
    night: &Path,
    data: &Path,
) -> (PathBuf, PathBuf) {
    let base = tmp.join("base");
    let mut args: Vec<std::ffi::OsString> = vec!["--config".into(), config.into(), "fit".into()];
    args.extend(files.iter().map(|f| f.into()));
    args.extend(["--out".into(), base.clone().into()]);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    // Scored on one and on two threads: the same bytes.
    let scored = tmp.join("night");
    for threads in ["1", "2"] {
        let out = tmp.join(format!("night-{threads}"));
        let mut args: Vec<std::ffi::OsString> = vec!["--threads".into(), threads.into()];
        args.extend(scan_args(
            Some(config),
            &[night],
            &out,
            &["--baseline", base.to_str().unwrap()],
        ));
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let findings =
        |t: &str| std::fs::read(tmp.join(format!("night-{t}/findings.parquet"))).unwrap();
    assert!(findings("1") == findings("2"), "1 and 2 threads differ");
    std::fs::rename(tmp.join("night-2"), &scored).unwrap();
    let m = manifest(&scored);
    let id = std::fs::read_to_string(base.join("baseline.json")).unwrap();
    assert!(id.contains(m["baseline"].as_str().unwrap()));
    let full = tmp.join("full");
    let o = run(scan_args(Some(config), &[data], &full, &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    (scored, full)
}

/// Fit on eleven months, score the twelfth against the stored baseline with the volume
/// detectors only, with the history statistics a baseline freezes turned off (surges:
/// no pooled prior, no count model; novelty: no typical-amount ratio) and drops off (a full
/// scan also judges series the new month does not touch): the findings are exactly
/// those of one scan over all twelve months, restricted to the periods the twelfth
/// month touches, scores included.
#[test]
fn scoring_a_month_against_a_baseline_finds_the_full_scans_volume_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 120_000, 21);
    let mut files = month_files(&data);
    let last = files.pop().unwrap();
    let config = tmp.path().join("volume.toml");
    std::fs::write(
        &config,
        "[price]\ndetectors = []\n\
         [volume]\nfold_events = false\n\
         [detectors.surge]\nprior_weight = 0.0\nmin_lines = 1000000\ndrops = false\n\
         [detectors.first-time-importer]\nmin_ratio = 0.0\nestablished_min_ratio = 0.0\n\
         [detectors.new-origin]\nmin_ratio = 0.0\n",
    )
    .unwrap();
    let (night, full) = night_and_full(tmp.path(), &config, &files, &last, &data);
    // 2025-12-01 and the Monday of its week (2025-12-01 is a Monday).
    let first_day = 20_423;
    let mut want: Vec<Key> = finding_keys(&full.join("findings.parquet"))
        .into_iter()
        .filter(|k| k.9.is_some_and(|d| d >= first_day))
        .collect();
    let mut got = finding_keys(&night.join("findings.parquet"));
    want.sort();
    got.sort();
    let detectors: std::collections::BTreeSet<&str> = got.iter().map(|k| k.0.as_str()).collect();
    assert!(got.len() > 20, "{} findings", got.len());
    assert!(detectors.len() >= 2, "{detectors:?}");
    // Novelty scores compare the amount with the HS6's typical cell: the history's,
    // against a baseline. Everything else, surge scores included, is the same.
    let strip = |v: Vec<Key>| -> Vec<Key> {
        v.into_iter()
            .map(|mut k| {
                if k.0 != "surge" {
                    k.10 = 0;
                }
                k
            })
            .collect()
    };
    assert_eq!(strip(got), strip(want));
}

/// The reference job (robust z per HS6 x origin, one level, every group judged) scored
/// against a baseline fitted on eleven months flags exactly the twelfth month's lines a
/// naive computation flags against the eleven months' groups: median and MAD by sorting
/// each group's ln(customs_value / quantity), |z| > 3.5, groups with MAD 0 not judged.
#[test]
fn scoring_a_month_against_a_baseline_judges_lines_against_the_history_groups() {
    use arrow::array::AsArray;
    use arrow::datatypes::{Float64Type, Int32Type};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 60_000, 23);
    let mut files = month_files(&data);
    let last = files.pop().unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/compare/reference.toml");
    let (night, _) = night_and_full(tmp.path(), &config, &files, &last, &data);

    // (hs6, origin, x, declaration id, line no) of every line of `files`.
    let lines = |files: &[PathBuf]| {
        let mut out = Vec::new();
        for f in files {
            for b in read_parquet(f) {
                let s = |n: &str| b.column_by_name(n).unwrap().as_string::<i32>().clone();
                let (hs, origin, id) = (s("hs_code"), s("origin"), s("declaration_id"));
                let value = column::<Float64Type>(&b, "customs_value");
                let qty = column::<Float64Type>(&b, "quantity");
                let line = column::<Int32Type>(&b, "line_no");
                for i in 0..b.num_rows() {
                    let x = (value.value(i) / qty.value(i)).ln();
                    if value.value(i) > 0.0 && qty.value(i) > 0.0 && x.is_finite() {
                        out.push((
                            hs.value(i)[..6].to_string(),
                            origin.value(i).to_string(),
                            x,
                            id.value(i).to_string(),
                            i64::from(line.value(i)),
                        ));
                    }
                }
            }
        }
        out
    };
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let p = (v.len() - 1) as f64 * 0.5;
        let (lo, hi) = (p.floor() as usize, p.ceil() as usize);
        if lo == hi {
            v[lo]
        } else {
            v[lo] + 0.5 * (v[hi] - v[lo])
        }
    };
    let mut groups: std::collections::HashMap<(String, String), Vec<f64>> = Default::default();
    for (hs6, origin, x, _, _) in lines(&files) {
        groups.entry((hs6, origin)).or_default().push(x);
    }
    let stats: std::collections::HashMap<(String, String), (f64, f64)> = groups
        .into_iter()
        .map(|(k, mut v)| {
            let med = median(&mut v);
            let mut dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
            (k, (med, median(&mut dev)))
        })
        .collect();
    let mut want: Vec<(String, i64)> = lines(std::slice::from_ref(&last))
        .into_iter()
        .filter(|(hs6, origin, x, _, _)| {
            stats
                .get(&(hs6.clone(), origin.clone()))
                .is_some_and(|&(med, mad)| mad > 0.0 && ((x - med) / (1.4826 * mad)).abs() > 3.5)
        })
        .map(|l| (l.3, l.4))
        .collect();
    let mut got: Vec<(String, i64)> = finding_keys(&night.join("findings.parquet"))
        .into_iter()
        .map(|k| (k.1.unwrap(), k.2.unwrap()))
        .collect();
    want.sort();
    got.sort();
    assert!(got.len() > 20, "{} flagged", got.len());
    assert_eq!(got, want);
}

/// `fit --update` with new months and a window writes the same bytes as a fresh fit of
/// all the files with the same window.
#[test]
fn fit_update_equals_a_fresh_fit_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 60_000, 22);
    let files = month_files(&data);
    let fit = |inputs: &[PathBuf], extra: &[&str]| {
        let mut args: Vec<std::ffi::OsString> = vec!["fit".into()];
        args.extend(inputs.iter().map(|f| f.into()));
        args.extend(extra.iter().map(|a| a.into()));
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    let rolled = tmp.path().join("rolled");
    fit(&files[..6], &["--out", rolled.to_str().unwrap()]);
    fit(&files[6..9], &["--update", rolled.to_str().unwrap()]);
    fit(
        &files[9..],
        &["--update", rolled.to_str().unwrap(), "--from", "2025-03-15"],
    );
    let fresh = tmp.path().join("fresh");
    fit(
        &files,
        &["--out", fresh.to_str().unwrap(), "--from", "2025-03-15"],
    );
    for name in [
        "lines.parquet",
        "cells.parquet",
        "groups.parquet",
        "series.parquet",
        "panels.parquet",
        "symbols.parquet",
        "baseline.json",
    ] {
        let (a, b) = (
            std::fs::read(rolled.join(name)).unwrap(),
            std::fs::read(fresh.join(name)).unwrap(),
        );
        assert!(a == b, "{name} differs");
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fresh.join("baseline.json")).unwrap()).unwrap();
    // 2025-03-15 is a Saturday: the window starts on Monday 2025-03-10.
    assert_eq!(meta["from"], "2025-03-10");
    assert_eq!(meta["inputs"].as_array().unwrap().len(), files.len());

    // A file the baseline was fitted from is refused: its lines would count twice.
    let o = run(scan_args(
        None,
        &[&files[11]],
        &tmp.path().join("twice"),
        &["--baseline", fresh.to_str().unwrap()],
    ));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("already in the baseline"),
        "{}",
        stderr(&o)
    );
    assert!(!tmp.path().join("twice").exists());

    // A baseline fitted with other settings is refused.
    let cfg = tmp.path().join("monthly.toml");
    std::fs::write(&cfg, "[volume]\nperiod = \"month\"\n").unwrap();
    let o = run(scan_args(
        Some(&cfg),
        &[&files[11]],
        &tmp.path().join("o"),
        &["--baseline", fresh.to_str().unwrap()],
    ));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("other settings"), "{}", stderr(&o));

    // A damaged baseline is an error naming the table, and nothing is written.
    let damaged = tmp.path().join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    for e in std::fs::read_dir(&fresh).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), damaged.join(e.file_name())).unwrap();
    }
    let series = std::fs::read(damaged.join("series.parquet")).unwrap();
    std::fs::write(damaged.join("series.parquet"), &series[..series.len() / 2]).unwrap();
    let out = tmp.path().join("o-damaged");
    let o = run(scan_args(
        None,
        &[&tmp.path().join("data")],
        &out,
        &["--baseline", damaged.to_str().unwrap()],
    ));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("series.parquet"), "{}", stderr(&o));
    assert!(!out.exists());
}

/// Price tiers survive a stored baseline: the lines of a realistic year scored against
/// a baseline fitted on the same year (its groups and tiers read back from
/// `groups.parquet`) get exactly the price findings of a plain scan, scores included.
#[test]
fn a_baseline_of_the_same_lines_judges_them_as_a_scan_does_tiers_included() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let cfg = tradescan_datasets::generate::GeneratorConfig {
        rows: 80_000,
        seed: 4,
        profile: tradescan_datasets::generate::Profile::Realistic,
        ..Default::default()
    };
    tradescan_datasets::generate::generate(&cfg, &data).unwrap();
    let config = tmp.path().join("price.toml");
    std::fs::write(&config, "[volume]\ndetectors = []\n").unwrap();
    let files = month_files(&data);
    // The same lines in one new file (a file the baseline has seen is refused).
    let copy = tmp.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    let batches: Vec<RecordBatch> = files.iter().flat_map(|f| read_parquet(f)).collect();
    write_parquet(&copy.join("all.parquet"), &batches, None);
    let (night, full) = night_and_full(tmp.path(), &config, &files, &copy, &data);
    let tiered: u64 = manifest(&full)["tiered_groups_per_level"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(tiered > 10, "{tiered} groups with tiers");
    let (mut got, mut want) = (
        finding_keys(&night.join("findings.parquet")),
        finding_keys(&full.join("findings.parquet")),
    );
    got.sort();
    want.sort();
    assert!(want.len() > 500, "{} findings", want.len());
    assert_eq!(got, want);
}

/// A baseline of another layout version (an older tradescan's) is refused with an
/// error that says so, not read as if it were current.
#[test]
fn a_baseline_of_another_format_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 20_000, 2);
    let mut files = month_files(&data);
    let night = files.pop().unwrap();
    let base = tmp.path().join("base");
    let mut args: Vec<std::ffi::OsString> = vec!["fit".into()];
    args.extend(files.iter().map(|f| f.into()));
    args.extend(["--out".into(), base.clone().into()]);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let meta = base.join("baseline.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    json["format"] = serde_json::json!(3);
    std::fs::write(&meta, json.to_string()).unwrap();
    let out = tmp.path().join("out");
    let o = run(scan_args(
        None,
        &[&night],
        &out,
        &["--baseline", base.to_str().unwrap()],
    ));
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("format 3 is not supported"), "{err}");
    assert!(!out.join("findings.parquet").exists());
}
