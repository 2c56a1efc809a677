//! Builders and the hand-computed case shared by the `eval` unit tests.

#![allow(clippy::unwrap_used)]

use super::model::{EvalFinding, Labels, LineLabel, SeriesId, SeriesLabel};
use crate::kernels::dates::parse_ymd;

pub(super) fn line(detector: &str, decl: &str, line_no: i64, score: f64) -> EvalFinding {
    EvalFinding {
        detector: detector.into(),
        declaration_id: Some(decl.into()),
        line_no: Some(line_no),
        score,
        risk: score,
        series: None,
        corroborations: Vec::new(),
    }
}

pub(super) fn series(detector: &str, importer: &str, start: &str, score: f64) -> EvalFinding {
    EvalFinding {
        detector: detector.into(),
        declaration_id: None,
        line_no: None,
        score,
        risk: score,
        series: Some(SeriesId {
            series_key: "hs6_importer".into(),
            hs6: Some("300490".into()),
            importer_id: Some(importer.into()),
            origin: None,
            office: None,
            period_start: parse_ymd(start),
        }),
        corroborations: Vec::new(),
    }
}

pub(super) fn label(decl: &str, line_no: i64, label: &str) -> LineLabel {
    LineLabel {
        declaration_id: decl.into(),
        line_no: Some(line_no),
        label: label.into(),
    }
}

pub(super) fn series_label(label: &str, importer: &str, start: &str) -> SeriesLabel {
    SeriesLabel {
        label: label.into(),
        series_key: "hs6_importer".into(),
        hs6: "300490".into(),
        importer_id: Some(importer.into()),
        origin: None,
        office: None,
        period: Some("week".into()),
        period_start: parse_ymd(start).unwrap(),
    }
}

/// The hand-computed case. N = 100 lines, so k = 1, 5 and 10 at 1%, 5%, 10%.
///
/// Findings (line score = max over its findings):
///
/// | line | robust-z | iqr-fence | line score | label |
/// |---|---|---|---|---|
/// | D1/1 | 9 | 4 | 9 | under_valuation |
/// | D2/1 | 7 |   | 7 | clean (negative) |
/// | D3/1 |   | 5 | 5 | under_valuation |
/// | D4/1 | 5 |   | 5 | - |
/// | D5/1 |   | 3 | 3 | - |
/// | D6/1 | 2 | 3 | 3 | wrong_unit |
/// | D9/1 |   |   | never flagged | wrong_unit |
///
/// Positive lines P = 4 (D1, D3, D6, D9). Ties D3/D4 (5) and D5/D6 (3) break by
/// declaration id, so the overall ranking is D1+ D2- D3+ D4- D5- D6+.
pub(super) fn case() -> (Vec<EvalFinding>, Labels) {
    let findings = vec![
        // Input order is deliberately not the ranking order.
        line("robust-z", "D6", 1, 2.0),
        line("iqr-fence", "D5", 1, 3.0),
        line("robust-z", "D4", 1, 5.0),
        line("iqr-fence", "D3", 1, 5.0),
        line("robust-z", "D2", 1, 7.0),
        line("iqr-fence", "D1", 1, 4.0),
        line("robust-z", "D1", 1, 9.0),
        line("iqr-fence", "D6", 1, 3.0),
        // Series: the labelled IM1 week is found (twice: one distinct period);
        // the IM1 week after is a false alarm.
        series("volume-surge", "IM1", "2025-03-03", 6.0),
        series("volume-surge", "IM1", "2025-03-03", 6.5),
        series("volume-surge", "IM1", "2025-03-10", 4.0),
    ];
    let labels = Labels {
        lines: vec![
            label("D1", 1, "under_valuation"),
            label("D3", 1, "under_valuation"),
            label("D6", 1, "wrong_unit"),
            label("D9", 1, "wrong_unit"),
            label("D2", 1, "clean"),
        ],
        series: vec![
            series_label("volume_surge", "IM1", "2025-03-03"),
            series_label("volume_surge", "IM2", "2025-03-03"),
        ],
    };
    (findings, labels)
}
