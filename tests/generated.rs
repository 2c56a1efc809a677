//! End-to-end tests on generated data: generate, inspect, scan, recall of the planted
//! price anomalies, determinism across runs, threads and batch sizes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::{list_files, run, stderr, stdout};

/// (declaration_id, line_no) -> label, from the generator's ground truth.
fn line_labels(data: &Path) -> BTreeMap<(String, i64), String> {
    let text = std::fs::read_to_string(data.join("_labels/lines.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("declaration_id,line_no,label"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            ((f[0].to_string(), f[1].parse().unwrap()), f[2].to_string())
        })
        .collect()
}

/// (declaration_id, line_no, score, detector) of every finding, in file order.
fn read_findings(path: &Path) -> Vec<(String, i64, f64, String)> {
    let mut out = Vec::new();
    for b in crate::read_parquet(path) {
        let col = |name: &str| b.column_by_name(name).unwrap().clone();
        let (ids, lines, scores, dets, series) = (
            col("declaration_id"),
            col("line_no"),
            col("score"),
            col("detector"),
            col("series_key"),
        );
        let (ids, dets) = (ids.as_string::<i32>(), dets.as_string::<i32>());
        let lines = lines.as_primitive::<Int64Type>();
        let scores = scores.as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            if series.is_valid(i) {
                // A volume finding: about a series, not a line.
                assert!(ids.is_null(i) && lines.is_null(i));
                continue;
            }
            assert!(!ids.is_null(i) && !lines.is_null(i));
            out.push((
                ids.value(i).to_string(),
                lines.value(i),
                scores.value(i),
                dets.value(i).to_string(),
            ));
        }
    }
    out
}

#[test]
fn generate_then_inspect_and_generator_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    for dir in [&a, &b] {
        let o = run([
            "generate", "--rows", "20000", "--seed", "7", "--months", "3", "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([dir.display().to_string()]));
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stdout(&o).contains("wrote 20000 rows in 3 files"),
            "{}",
            stdout(&o)
        );
    }
    let files = list_files(&a);
    assert_eq!(files, list_files(&b));
    assert!(files.iter().any(|f| f.ends_with("_labels/lines.csv")));
    let parquet: Vec<_> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert_eq!(parquet.len(), 3);
    assert!(parquet[0].starts_with("year=2025/month=01"), "{parquet:?}");
    for f in &files {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f:?} differs"
        );
    }
    // A different seed gives different data.
    let c = tmp.path().join("c");
    let o = run([
        "generate",
        "--rows",
        "20000",
        "--seed",
        "8",
        "--months",
        "3",
        "--out",
        c.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_ne!(
        std::fs::read(a.join(parquet[0])).unwrap(),
        std::fs::read(c.join(parquet[0])).unwrap()
    );

    let o = run(["inspect", a.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("3 files, 20000 rows"), "{out}");
    assert!(out.contains("dates 2025-01-"), "{out}");
    assert!(
        out.contains("hs_code         <- hs_code              Utf8"),
        "{out}"
    );
    let o = run(["inspect", "--json", a.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows: u64 = json
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows, 20000);
}

#[test]
fn planted_labels_are_present_in_the_stated_shares() {
    let tmp = tempfile::tempdir().unwrap();
    let report = crate::generate(tmp.path(), 200_000, 11);
    let labels = line_labels(tmp.path());
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for l in labels.values() {
        *counts.entry(l.as_str()).or_default() += 1;
    }
    for (label, share) in tradescan_datasets::generate::LINE_LABEL_SHARES {
        let n = counts.get(label).copied().unwrap_or(0);
        assert_eq!(report.line_labels.get(*label).copied(), Some(n), "{label}");
        let got = n as f64 / 200_000.0;
        assert!(
            got > share * 0.6 && got < share * 1.6,
            "{label}: share {got} vs stated {share}"
        );
    }
    for kind in ["volume_surge", "first_time_precursor_importer"] {
        assert!(
            counts.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} lines"
        );
        assert!(
            report.series_labels.get(kind).copied().unwrap_or(0) >= 1,
            "no {kind} series"
        );
    }
}

/// The acceptance test of the price detectors: every planted price anomaly type is found
/// with recall >= 0.9, and the top 0.5% of lines by score is mostly planted anomalies.
#[test]
fn scan_finds_planted_price_anomalies() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let rows = 300_000u64;
    crate::generate(&data, rows, 42);
    let out = tmp.path().join("out");
    let o = run([
        "scan",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let findings = read_findings(&out.join("findings.parquet"));
    let labels = line_labels(&data);

    let flagged: BTreeSet<(String, i64)> = findings.iter().map(|f| (f.0.clone(), f.1)).collect();
    for kind in [
        "under_valuation",
        "over_valuation",
        "wrong_unit",
        "price_gouging",
    ] {
        let planted: Vec<_> = labels
            .iter()
            .filter(|(_, l)| *l == kind)
            .map(|(k, _)| k)
            .collect();
        let found = planted.iter().filter(|k| flagged.contains(*k)).count();
        let recall = found as f64 / planted.len() as f64;
        eprintln!("recall {kind}: {found}/{} = {recall:.3}", planted.len());
        assert!(planted.len() > 100, "too few {kind} planted");
        assert!(recall >= 0.9, "recall of {kind} is {recall:.3}");
    }

    // Precision among the top 0.5% of lines, each line ranked by its best score.
    let mut best: BTreeMap<(String, i64), f64> = BTreeMap::new();
    for f in &findings {
        let e = best.entry((f.0.clone(), f.1)).or_insert(f.2);
        *e = e.max(f.2);
    }
    let mut ranked: Vec<_> = best.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let k = (rows as usize) / 200;
    let hits = ranked
        .iter()
        .take(k)
        .filter(|(key, _)| labels.contains_key(key))
        .count();
    let precision = hits as f64 / k as f64;
    eprintln!("precision in the top 0.5% ({k} lines): {hits}/{k} = {precision:.3}");
    assert!(precision > 0.8, "precision at 0.5% is {precision:.3}");

    // The run record adds up.
    let summary: serde_json::Value = crate::manifest(&out);
    assert_eq!(summary["rows_read"], rows);
    let series: u64 = summary["findings_by_series_key"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(summary["findings"], findings.len() as u64 + series);
    let skipped: u64 = summary["rows_skipped"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(summary["rows_scored"].as_u64().unwrap() + skipped, rows);
    // Findings are sorted by risk, descending, a line's findings together. A line's
    // risk is its strongest score when one measure fired on it, and more when both
    // (unit value and kg per unit) did.
    let mut rows: Vec<((String, i64), f64)> = Vec::new();
    let mut by_line: BTreeMap<(String, i64), (f64, BTreeSet<bool>)> = BTreeMap::new();
    for b in crate::read_parquet(&out.join("findings.parquet")) {
        let text = |n: &str| b.column_by_name(n).unwrap().as_string::<i32>().clone();
        let num = |n: &str| {
            (b.column_by_name(n).unwrap())
                .as_primitive::<Float64Type>()
                .clone()
        };
        let (ids, measure) = (text("declaration_id"), text("measure"));
        let (risk, score) = (num("risk"), num("score"));
        let line_no = (b.column_by_name("line_no").unwrap())
            .as_primitive::<Int64Type>()
            .clone();
        for i in (0..b.num_rows()).filter(|&i| ids.is_valid(i)) {
            let key = (ids.value(i).to_string(), line_no.value(i));
            rows.push((key.clone(), risk.value(i)));
            let e = by_line.entry(key).or_insert((0.0, BTreeSet::new()));
            e.0 = e.0.max(score.value(i));
            e.1.insert(measure.value(i) == "kg_per_unit");
        }
    }
    assert!(rows.windows(2).all(|w| w[0].1 >= w[1].1));
    assert_eq!(
        rows.chunk_by(|a, b| a.0 == b.0).count(),
        by_line.len(),
        "each line's findings are together"
    );
    let mut both = 0;
    for (key, risk) in &rows {
        let (best, measures) = &by_line[key];
        if measures.len() == 1 {
            assert_eq!(risk, best, "{key:?}");
        } else {
            both += 1;
            assert!(risk > best, "{key:?}: risk {risk}, best score {best}");
        }
    }
    assert!(both > 0, "no line with both measures flagged");
}

#[test]
fn findings_identical_across_threads_batch_sizes_and_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 60_000, 5);
    let scan = |name: &str, extra: &[&str]| -> Vec<u8> {
        let out = tmp.path().join(name);
        let mut args = vec![
            "scan",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--format",
            "csv",
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(out.join("findings.csv")).unwrap()
    };
    let reference = scan("t1", &["--threads", "1"]);
    assert!(reference.len() > 1000);
    assert_eq!(
        scan("t2", &["--threads", "2"]),
        reference,
        "threads 2 differs"
    );
    assert_eq!(
        scan("t3", &["--threads", "3", "--batch-size", "7"]),
        reference,
        "batch 7 differs"
    );
    assert_eq!(
        scan("b1024", &["--batch-size", "1024"]),
        reference,
        "batch 1024 differs"
    );

    // Parquet output is byte-identical across thread counts too.
    let pq = |threads: &str| {
        let out = tmp.path().join(format!("pq{threads}"));
        let o = run([
            "scan",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--threads",
            threads,
        ]);
        assert!(o.status.success());
        std::fs::read(out.join("findings.parquet")).unwrap()
    };
    assert_eq!(pq("1"), pq("2"));

    // The engine encodes the Parquet columns on its workers; the library's serial
    // writer gives the same bytes.
    let mut config = tradescan::Config::default();
    config.scan.threads = 2;
    let engine = tradescan::Engine::new(config).unwrap();
    let out = engine
        .scan(std::slice::from_ref(&data), &tradescan::NoProgress)
        .unwrap();
    assert!(out.findings.len() > 100);
    let written = |dir: &str, parallel: bool| {
        let opts = tradescan::OutputOptions {
            dir: tmp.path().join(dir),
            format: tradescan::report::Format::Parquet,
        };
        if parallel {
            engine.write_output(&out, &opts).unwrap();
        } else {
            tradescan::write_scan_output(&out, &opts).unwrap();
        }
        std::fs::read(opts.dir.join("findings.parquet")).unwrap()
    };
    assert_eq!(written("parallel", true), written("serial", false));
}

#[test]
fn demo_runs_and_prints_explained_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run([
        "demo",
        "--rows",
        "30000",
        "--top",
        "5",
        "--dir",
        tmp.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("findings:"), "{out}");
    assert!(out.contains("is ") && out.contains("the median"), "{out}");
    assert!(tmp.path().join("out/findings.parquet").exists());
    assert!(tmp.path().join("out/manifest.json").exists());
}

#[test]
fn date_window_prunes_row_groups_by_statistics() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 60_000, 3);
    let march = data.join("year=2025/month=03/part-0.parquet");
    let meta =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&march).unwrap()).unwrap();
    let march_rows = meta.metadata().file_metadata().num_rows() as u64;
    let march_groups = meta.metadata().num_row_groups() as u64;
    let out = tmp.path().join("out");
    let o = run(crate::scan_args(
        None,
        &[&data],
        &out,
        &[
            "--format",
            "jsonl",
            "--from",
            "2025-03-01",
            "--to",
            "2025-03-31",
        ],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    let s: serde_json::Value = crate::manifest(&out);
    let total_groups = s["row_groups"].as_u64().unwrap();
    assert_eq!(
        s["row_groups_pruned"].as_u64().unwrap(),
        total_groups - march_groups
    );
    assert_eq!(s["rows_read"].as_u64().unwrap(), march_rows);
    assert_eq!(
        s["rows_skipped"]["outside_date_window"].as_u64().unwrap(),
        60_000 - march_rows
    );
    // Every finding is dated in March.
    let text = std::fs::read_to_string(out.join("findings.jsonl")).unwrap();
    assert!(text.lines().count() > 0);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            v["date"].as_str().unwrap().starts_with("2025-03-"),
            "{line}"
        );
    }
}
