//! Volume anomalies end to end: planted surges and first-time precursor importers are
//! found in generated data; split shipments in a hand-made file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{AsArray, Date32Array, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};

use crate::{run, scan_args, stderr, write_parquet};

/// (detector, series_key, hs6, importer_id, period_start) of every volume finding.
fn series_findings(path: &Path) -> Vec<(String, String, String, String, String)> {
    let mut out = Vec::new();
    for b in crate::read_parquet(path) {
        let text = |name: &str| {
            let a = arrow::compute::cast(b.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
            a.as_string::<i32>()
                .iter()
                .map(|s| s.unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        let (det, key, hs6, imp, start) = (
            text("detector"),
            text("series_key"),
            text("hs6"),
            text("importer_id"),
            text("period_start"),
        );
        for i in 0..b.num_rows() {
            if !key[i].is_empty() {
                out.push((
                    det[i].clone(),
                    key[i].clone(),
                    hs6[i].clone(),
                    imp[i].clone(),
                    start[i].clone(),
                ));
            }
        }
    }
    out
}

/// The acceptance test of the volume detectors: planted volume surges and first-time
/// precursor importers are found with recall >= 0.9; the other series flagged are
/// printed (`--nocapture`).
#[test]
fn scan_finds_planted_volume_anomalies() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let rows = 1_000_000u64;
    crate::generate(&data, rows, 7);
    let out = tmp.path().join("out");
    let o = run(scan_args(None, &[&data], &out, &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    let found = series_findings(&out.join("findings.parquet"));

    let labels = std::fs::read_to_string(data.join("_labels/series.csv")).unwrap();
    let mut lines = labels.lines();
    assert_eq!(
        lines.next(),
        Some("label,series_key,hs6,importer_id,origin,office,period,period_start")
    );
    let labels: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let mut matched = BTreeSet::new();
    for (label, detector) in [
        ("volume_surge", "surge"),
        ("first_time_precursor_importer", "first-time-importer"),
    ] {
        let planted: Vec<&Vec<String>> = labels.iter().filter(|l| l[0] == label).collect();
        let hits = planted
            .iter()
            .filter(|l| {
                let key = (
                    detector.to_string(),
                    l[1].clone(),
                    l[2].clone(),
                    l[3].clone(),
                    l[7].clone(),
                );
                let hit = found.contains(&key);
                if hit {
                    matched.insert(key);
                }
                hit
            })
            .count();
        let recall = hits as f64 / planted.len() as f64;
        eprintln!("recall {label}: {hits}/{} = {recall:.3}", planted.len());
        assert!(planted.len() >= 5, "too few {label} planted");
        assert!(recall >= 0.9, "recall of {label} is {recall:.3}");
    }
    let mut others: BTreeMap<(String, String), u64> = BTreeMap::new();
    for f in found.iter().filter(|f| !matched.contains(*f)) {
        *others.entry((f.0.clone(), f.1.clone())).or_default() += 1;
    }
    eprintln!("other series flagged (detector, series key): {others:?}");

    let summary: serde_json::Value = crate::manifest(&out);
    let v = &summary["volume"];
    assert_eq!(
        v["lines_used"], rows,
        "every generated line has a date and an HS6"
    );
    assert_eq!(v["period"], "week");
    assert!(v["periods"].as_u64().unwrap() >= 52);
    let by_key: u64 = summary["findings_by_series_key"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(by_key, found.len() as u64);
    // Only series too short to have history are left out; every other is judged.
    assert!(v["periods_not_judged"]["too_short"].as_u64().unwrap() > 0);
    assert!(
        v["series_judged"].as_u64().unwrap() > v["series"]["hs6+importer"].as_u64().unwrap() / 2
    );
}

/// One importer splits 3,600 kg of ammonium nitrate into four lines of 900-990 kg on
/// one day, under a 1,000 kg threshold; nobody else does.
#[test]
fn split_shipments_under_a_threshold_are_found() {
    let tmp = tempfile::tempdir().unwrap();
    let day = 20_241; // 2025-06-02
    // (importer, hs, day, quantity)
    let mut rows: Vec<(&str, &str, i32, f64)> = vec![
        ("SPLITTER", "3102300000", day, 950.0),
        ("SPLITTER", "3102300000", day, 990.0),
        ("SPLITTER", "3102301000", day, 900.0),
        ("SPLITTER", "3102300000", day, 960.0),
        // Two lines only: not enough.
        ("PAIR", "3102300000", day, 980.0),
        ("PAIR", "3102300000", day, 970.0),
        // Many lines, but far under the threshold.
        ("SMALL", "3102300000", day, 100.0),
        ("SMALL", "3102300000", day, 100.0),
        ("SMALL", "3102300000", day, 100.0),
        // Just under, but spread over three days.
        ("SPREAD", "3102300000", day, 950.0),
        ("SPREAD", "3102300000", day + 1, 950.0),
        ("SPREAD", "3102300000", day + 2, 950.0),
        // Another code with no threshold.
        ("OTHER", "0701900000", day, 950.0),
        ("OTHER", "0701900000", day, 950.0),
        ("OTHER", "0701900000", day, 950.0),
    ];
    rows.sort_by_key(|r| r.2);
    let n = rows.len();
    let schema = Arc::new(Schema::new(vec![
        Field::new("declaration_id", DataType::Utf8, false),
        Field::new("date", DataType::Date32, false),
        Field::new("importer_id", DataType::Utf8, false),
        Field::new("hs_code", DataType::Utf8, false),
        Field::new("quantity", DataType::Float64, false),
        Field::new("customs_value", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("D{i}")),
            )),
            Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.3))),
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|r| r.3 * 0.3),
            )),
        ],
    )
    .unwrap();
    let data = tmp.path().join("data.parquet");
    write_parquet(&data, &[batch], None);
    let config = tmp.path().join("split.toml");
    std::fs::write(
        &config,
        "[volume]\ndetectors = [\"split-shipment\"]\n\n\
         [[detectors.split-shipment.thresholds]]\nhs = \"3102.30\"\namount = 1000\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = run(scan_args(
        Some(&config),
        &[&data],
        &out,
        &["--detectors", "split-shipment"],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    let found = series_findings(&out.join("findings.parquet"));
    assert_eq!(
        found,
        vec![(
            "split-shipment".to_string(),
            "hs6_importer".to_string(),
            "310230".to_string(),
            "SPLITTER".to_string(),
            "2025-06-02".to_string()
        )]
    );
    let summary: serde_json::Value = crate::manifest(&out);
    // SPLITTER 4 + PAIR 2 + SPREAD 3 lines sit in the band under the threshold.
    assert_eq!(summary["volume"]["split_candidate_lines"], 9);

    // Without thresholds the detector says it did nothing.
    let out2 = tmp.path().join("out2");
    let o = run(scan_args(
        None,
        &[&data],
        &out2,
        &["--detectors", "split-shipment"],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = crate::manifest(&out2);
    assert!(
        summary["volume"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("no thresholds")
    );
    assert!(series_findings(&out2.join("findings.parquet")).is_empty());
}

/// `--detectors` with price detectors only runs no volume pass.
#[test]
fn volume_pass_is_off_without_volume_detectors() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    crate::generate(&data, 30_000, 3);
    let out = tmp.path().join("out");
    let o = run(scan_args(
        None,
        &[&data],
        &out,
        &["--detectors", "robust-z"],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(series_findings(&out.join("findings.parquet")).is_empty());
    let summary: serde_json::Value = crate::manifest(&out);
    assert!(summary.get("volume").is_none());
    // A volume detector listed as a price detector is a configuration error.
    let config = tmp.path().join("bad.toml");
    std::fs::write(&config, "[price]\ndetectors = [\"surge\"]\n").unwrap();
    let o = run(scan_args(
        Some(&config),
        &[&data],
        &tmp.path().join("o3"),
        &[],
    ));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is a volume detector"),
        "{}",
        stderr(&o)
    );
}
