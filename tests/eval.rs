//! `tradescan eval` on a hand-made scan output: numbers checked against a computation
//! by hand, tolerance of extra and series columns, and clear errors for bad labels.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use serde_json::Value;
use tempfile::TempDir;

use crate::{run, stderr, stdout, write_parquet};

/// 2025-03-03 (a Monday) as days since 1970-01-01.
const MAR_3_2025: i32 = 20_150;

/// A scan output of N = 40 lines: five line findings on four lines, two series
/// findings, the series columns, and two columns `eval` does not know.
///
/// | line | robust-z | iqr-fence | line score | label |
/// |---|---|---|---|---|
/// | D01/1 | 8 | | 8 | under_valuation |
/// | D02/1 | 6 | 7 | 7 | clean |
/// | D03/2 | | 6 | 6 | over_valuation |
/// | D04/1 | 6 | | 6 | - |
/// | D05/1 | | | never flagged | under_valuation |
fn write_scan_output(dir: &Path) {
    let s = |v: Vec<Option<&str>>| Arc::new(StringArray::from(v)) as ArrayRef;
    let n = None;
    let batch = RecordBatch::try_from_iter(vec![
        (
            "detector",
            s(vec![
                Some("robust-z"),
                Some("robust-z"),
                Some("iqr-fence"),
                Some("iqr-fence"),
                Some("robust-z"),
                Some("volume-surge"),
                Some("volume-surge"),
            ]),
        ),
        ("unknown_extra", s(vec![Some("x"); 7])),
        (
            "declaration_id",
            s(vec![
                Some("D01"),
                Some("D02"),
                Some("D02"),
                Some("D03"),
                Some("D04"),
                n,
                n,
            ]),
        ),
        (
            "line_no",
            Arc::new(Int64Array::from(vec![
                Some(1),
                Some(1),
                Some(1),
                Some(2),
                Some(1),
                None,
                None,
            ])) as ArrayRef,
        ),
        (
            "score",
            Arc::new(Float64Array::from(vec![8.0, 6.0, 7.0, 6.0, 6.0, 5.0, 4.0])) as ArrayRef,
        ),
        (
            "series_key",
            s(vec![
                n,
                n,
                n,
                n,
                n,
                Some("hs6_importer"),
                Some("hs6_origin"),
            ]),
        ),
        (
            "hs6",
            s(vec![n, n, n, n, n, Some("300490"), Some("300490")]),
        ),
        // Line findings carry their own importer; only series findings' is read.
        (
            "importer_id",
            s(vec![
                Some("IM7"),
                Some("IM7"),
                Some("IM7"),
                Some("IM7"),
                Some("IM7"),
                Some("IM1"),
                n,
            ]),
        ),
        ("origin", s(vec![n, n, n, n, n, n, Some("CN")])),
        ("office", s(vec![n; 7])),
        (
            "period_start",
            Arc::new(Date32Array::from(vec![
                None,
                None,
                None,
                None,
                None,
                Some(MAR_3_2025),
                Some(MAR_3_2025),
            ])) as ArrayRef,
        ),
        ("period", s(vec![n, n, n, n, n, Some("week"), Some("week")])),
        ("explanation", s(vec![Some("a, \"quoted\" sentence"); 7])),
    ])
    .unwrap();
    write_parquet(&dir.join("out/findings.parquet"), &[batch], None);
    std::fs::write(
        dir.join("out/manifest.json"),
        r#"{"tool": "tradescan test", "rows_total": 40, "rows_read": 40}"#,
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("labels")).unwrap();
    // Columns in another order than the generator writes them.
    std::fs::write(
        dir.join("labels/lines.csv"),
        "label,declaration_id,line_no\n\
         under_valuation,D01,1\n\
         over_valuation,D03,2\n\
         under_valuation,D05,1\n\
         clean,D02,1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("labels/series.csv"),
        "label,series_key,hs6,importer_id,origin,office,period,period_start\n\
         volume_surge,hs6_importer,300490,IM1,,,week,2025-03-03\n\
         volume_surge,hs6_importer,300490,IM9,,,week,2025-03-10\n",
    )
    .unwrap();
}

fn eval_json(dir: &Path) -> Value {
    let o = run([
        "eval".as_ref(),
        "--findings".as_ref(),
        dir.join("out").as_os_str(),
        "--labels".as_ref(),
        dir.join("labels").as_os_str(),
        "--json".as_ref(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn close(v: &Value, want: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    assert!((got - want).abs() < 1e-9, "{got} != {want}");
}

#[test]
fn eval_scores_a_scan_output_by_hand() {
    let tmp = TempDir::new().unwrap();
    write_scan_output(tmp.path());
    let r = eval_json(tmp.path());
    assert_eq!(r["lines_total"], 40);
    assert_eq!(r["lines_total_source"], "manifest.json");
    assert_eq!(
        (r["line_findings"].clone(), r["series_findings"].clone()),
        (5.into(), 2.into())
    );
    assert_eq!(
        (r["positive_lines"].clone(), r["negative_lines"].clone()),
        (3.into(), 1.into())
    );
    // N = 40: k = ceil(0.2) = 1, ceil(0.4) = 1, ceil(2) = 2, ceil(4) = 4.
    let ks: Vec<u64> = r["inspected_at"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["k"].as_u64().unwrap())
        .collect();
    assert_eq!(ks, vec![1, 1, 2, 4]);

    // Overall ranking: D01(8)+ D02(7)- D03/2(6)+ D04(6)- (tie by declaration id).
    // P = 3 positives (D01, D03/2, D05).
    let o = &r["overall"];
    assert_eq!(o["flagged_lines"], 4);
    let at = |s: &Value, i: usize, what: &str| s["at"][i][what].clone();
    // k = 1: D01 -> P 1/1, R 1/3. k = 2: D01 D02 -> P 1/2, R 1/3.
    // k = 4: all four -> P 2/4, R 2/3.
    close(&at(o, 1, "precision"), 1.0);
    close(&at(o, 1, "recall"), 1.0 / 3.0);
    close(&at(o, 2, "precision"), 0.5);
    close(&at(o, 2, "recall"), 1.0 / 3.0);
    close(&at(o, 3, "precision"), 0.5);
    close(&at(o, 3, "recall"), 2.0 / 3.0);
    // AP = (1/1 + 2/3 + 0 for D05) / 3 = 5/9.
    close(&o["average_precision"], 5.0 / 9.0);

    // robust-z alone: D01(8)+ D02(6)- D04(6)-: k = 4 inspects 3, 1 hit.
    let z = &r["by_detector"]["robust-z"];
    assert_eq!(z["flagged_lines"], 3);
    assert_eq!(at(z, 3, "inspected"), 3);
    close(&at(z, 3, "precision"), 1.0 / 3.0);
    close(&z["average_precision"], 1.0 / 3.0);
    // iqr-fence alone: D02(7)- D03/2(6)+: AP = (1/2) / 3.
    let q = &r["by_detector"]["iqr-fence"];
    close(&at(q, 1, "precision"), 0.0);
    close(&q["average_precision"], 1.0 / 6.0);
    // Series findings are not lines.
    assert!(r["by_detector"].get("volume-surge").is_none());

    // Per label: under_valuation {D01, D05} found 1/2 (at k = 1 already);
    // over_valuation {D03/2} found 1/1, rank 3: only at k = 4.
    let u = &r["by_label"]["under_valuation"];
    assert_eq!(
        (u["lines"].clone(), u["found"].clone()),
        (2.into(), 1.into())
    );
    close(&u["at"][1]["recall"], 0.5);
    let ov = &r["by_label"]["over_valuation"];
    let recalls: Vec<f64> = ov["at"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["recall"].as_f64().unwrap())
        .collect();
    assert_eq!(recalls, vec![0.0, 0.0, 0.0, 1.0]);
    close(&ov["by_detector"]["robust-z"]["recall"], 0.0);
    close(&ov["by_detector"]["iqr-fence"]["recall"], 1.0);

    // Series: the IM1 week is found, the IM9 week is not; the hs6_origin finding
    // matches no label.
    let s = &r["series"];
    assert_eq!(s["by_label"]["volume_surge"]["labels"], 2);
    assert_eq!(s["by_label"]["volume_surge"]["found"], 1);
    assert_eq!(s["by_series_key"]["hs6_importer"]["false_alarms"], 0);
    assert_eq!(s["by_series_key"]["hs6_origin"]["false_alarms"], 1);
    assert_eq!(s["by_detector"]["volume-surge"]["hs6_origin"]["flagged"], 1);

    // The text report carries the same numbers; --lines overrides N.
    let o = run([
        "eval".as_ref(),
        "--findings".as_ref(),
        tmp.path().join("out/findings.parquet").as_os_str(),
        "--labels".as_ref(),
        tmp.path().join("labels/lines.csv").as_os_str(),
        "--lines".as_ref(),
        "100".as_ref(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let all: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("all "))
        .unwrap()
        .split_whitespace()
        .collect();
    // N = 100: k = 1, 1, 5, 10; the last two inspect all four flagged lines.
    assert_eq!(
        all,
        vec![
            "all", "4", "1.000", "0.333", "1.000", "0.333", "0.500", "0.667", "0.500", "0.667",
            "0.556"
        ],
        "{text}"
    );
}

#[test]
fn eval_reports_bad_labels_clearly() {
    let tmp = TempDir::new().unwrap();
    write_scan_output(tmp.path());
    let eval = |labels: &Path| {
        run([
            "eval".as_ref(),
            "--findings".as_ref(),
            tmp.path().join("out").as_os_str(),
            "--labels".as_ref(),
            labels.as_os_str(),
        ])
    };

    let missing = tmp.path().join("no-such/labels.csv");
    let o = eval(&missing);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(stdout(&o).is_empty());

    let bad = tmp.path().join("bad.csv");
    std::fs::write(&bad, "declaration_id,line_no,label\nD01,1,x\nD02,one,x\n").unwrap();
    let o = eval(&bad);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&bad.display().to_string()) && err.contains("line 3") && err.contains("one"),
        "{err}"
    );

    // A findings folder without manifest.json needs --lines.
    std::fs::remove_file(tmp.path().join("out/manifest.json")).unwrap();
    let o = eval(&tmp.path().join("labels"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--lines"), "{}", stderr(&o));
}
