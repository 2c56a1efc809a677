//! Line metrics: rank the flagged lines and score each ranking (precision and recall at
//! the inspection rates, AUC-PR, recall per label type).

use std::collections::{BTreeMap, BTreeSet};

use super::model::{
    AtRate, EvalFinding, EvalReport, LabelRecall, Labels, LineScores, RATES_PER_MILLE, RateK,
    RateRecall, Recall, is_negative_label, percent, ratio,
};
use super::series::evaluate_series;

/// `ceil(per_mille * n / 1000)` in integers.
fn k_at(per_mille: u64, n: u64) -> u64 {
    (u128::from(per_mille) * u128::from(n)).div_ceil(1000) as u64
}

/// Counts from one ranking of flagged lines.
struct Ranked {
    scores: LineScores,
    /// Per label type: lines with any finding in this ranking.
    found_by_type: Vec<u64>,
    /// Per rate, per label type: lines among the inspected.
    found_at: Vec<Vec<u64>>,
}

/// Score one ranking. `scores[i]` is line `i`'s score in it (`None`: not flagged);
/// line ids are in tie-break order. `types_of[i]` lists the label types of positive
/// line `i` (empty for other lines).
fn rank(
    scores: &[Option<f64>],
    types_of: &[Vec<usize>],
    n_types: usize,
    positives: u64,
    lines_total: u64,
) -> Ranked {
    let mut order: Vec<(f64, usize)> = scores
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (s, i)))
        .collect();
    // Score descending, then line id ascending (declaration id, line number).
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let ks: Vec<u64> = RATES_PER_MILLE
        .iter()
        .map(|&p| k_at(p, lines_total))
        .collect();
    let mut found_by_type = vec![0; n_types];
    let mut found_at = vec![vec![0; n_types]; ks.len()];
    let mut hits_at = vec![0u64; ks.len()];
    let mut hits = 0u64;
    let mut precision_sum = 0.0;
    for (rank0, &(_, line)) in order.iter().enumerate() {
        let types = &types_of[line];
        if types.is_empty() {
            continue;
        }
        hits += 1;
        precision_sum += hits as f64 / (rank0 + 1) as f64;
        for &t in types {
            found_by_type[t] += 1;
        }
        for (r, &k) in ks.iter().enumerate() {
            if (rank0 as u64) < k {
                hits_at[r] += 1;
                for &t in types {
                    found_at[r][t] += 1;
                }
            }
        }
    }
    let flagged = order.len() as u64;
    let at = RATES_PER_MILLE
        .iter()
        .zip(&ks)
        .zip(&hits_at)
        .map(|((&rate, &k), &h)| {
            let inspected = k.min(flagged);
            AtRate {
                rate_percent: percent(rate),
                inspected,
                positives: h,
                precision: ratio(h, inspected),
                recall: ratio(h, positives),
            }
        })
        .collect();
    Ranked {
        scores: LineScores {
            flagged_lines: flagged,
            flagged_positives: hits,
            at,
            average_precision: (positives > 0).then(|| precision_sum / positives as f64),
        },
        found_by_type,
        found_at,
    }
}

/// Evaluate `findings` against `labels` for a scan of `lines_total` lines (metrics in
/// the [`eval`](super) docs). Pure: the same inputs in any order give the same report.
pub fn evaluate(findings: &[EvalFinding], labels: &Labels, lines_total: u64) -> EvalReport {
    // ---- line findings: line ids in (declaration_id, line_no) order --------------------
    let mut line_ids: BTreeMap<(&str, Option<i64>), usize> = BTreeMap::new();
    let mut line_findings = Vec::new();
    let mut series_findings = Vec::new();
    let mut unidentified = 0u64;
    for f in findings {
        match (&f.series, &f.declaration_id) {
            (Some(id), _) => series_findings.push((f.detector.as_str(), id)),
            (None, Some(d)) => {
                line_ids.insert((d.as_str(), f.line_no), 0);
                line_findings.push(f);
            }
            (None, None) => unidentified += 1,
        }
        series_findings.extend(f.corroborations.iter().map(|(d, id)| (d.as_str(), id)));
    }
    for (i, id) in line_ids.values_mut().enumerate() {
        *id = i;
    }
    let n_lines = line_ids.len();
    let detectors: BTreeSet<&str> = line_findings.iter().map(|f| f.detector.as_str()).collect();
    let detectors: Vec<&str> = detectors.into_iter().collect();
    let mut overall: Vec<Option<f64>> = vec![None; n_lines];
    let mut per_detector: Vec<Vec<Option<f64>>> = vec![vec![None; n_lines]; detectors.len()];
    for f in &line_findings {
        let (Some(d), Some(&line)) = (
            detectors.binary_search(&f.detector.as_str()).ok(),
            f.declaration_id
                .as_deref()
                .and_then(|decl| line_ids.get(&(decl, f.line_no))),
        ) else {
            continue;
        };
        // Overall, lines rank by their risk; per detector, by the detector's score.
        for (slot, s) in [
            (&mut overall[line], f.risk),
            (&mut per_detector[d][line], f.score),
        ] {
            *slot = Some(slot.map_or(s, |old| old.max(s)));
        }
    }

    // ---- line labels ------------------------------------------------------------------
    let mut positive: BTreeMap<(&str, Option<i64>), BTreeSet<&str>> = BTreeMap::new();
    let mut negative: BTreeSet<(&str, Option<i64>)> = BTreeSet::new();
    for l in &labels.lines {
        let key = (l.declaration_id.as_str(), l.line_no);
        if is_negative_label(&l.label) {
            negative.insert(key);
        } else {
            positive.entry(key).or_default().insert(l.label.trim());
        }
    }
    negative.retain(|k| !positive.contains_key(k));
    let types: Vec<&str> = positive
        .values()
        .flatten()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut lines_by_type = vec![0u64; types.len()];
    let mut types_of: Vec<Vec<usize>> = vec![Vec::new(); n_lines];
    for (key, ts) in &positive {
        let idx: Vec<usize> = ts
            .iter()
            .filter_map(|t| types.binary_search(t).ok())
            .collect();
        for &t in &idx {
            lines_by_type[t] += 1;
        }
        if let Some(&line) = line_ids.get(key) {
            types_of[line] = idx;
        }
    }
    let positives = positive.len() as u64;

    // ---- rankings -----------------------------------------------------------------------
    let all = rank(&overall, &types_of, types.len(), positives, lines_total);
    let each: Vec<Ranked> = per_detector
        .iter()
        .map(|s| rank(s, &types_of, types.len(), positives, lines_total))
        .collect();
    let share = |num: u64, den: u64| ratio(num, den).unwrap_or(0.0);
    let by_label = types
        .iter()
        .enumerate()
        .map(|(t, name)| {
            let n = lines_by_type[t];
            let recall = LabelRecall {
                lines: n,
                found: all.found_by_type[t],
                recall: share(all.found_by_type[t], n),
                at: RATES_PER_MILLE
                    .iter()
                    .zip(&all.found_at)
                    .map(|(&rate, found)| RateRecall {
                        rate_percent: percent(rate),
                        found: found[t],
                        recall: share(found[t], n),
                    })
                    .collect(),
                by_detector: detectors
                    .iter()
                    .zip(&each)
                    .map(|(d, r)| {
                        let found = r.found_by_type[t];
                        (
                            d.to_string(),
                            Recall {
                                found,
                                recall: share(found, n),
                            },
                        )
                    })
                    .collect(),
            };
            (name.to_string(), recall)
        })
        .collect();

    EvalReport {
        findings_file: String::new(),
        label_files: Vec::new(),
        lines_total,
        lines_total_source: "argument".to_string(),
        line_findings: line_findings.len() as u64,
        series_findings: series_findings.len() as u64,
        unidentified_findings: unidentified,
        positive_lines: positives,
        negative_lines: negative.len() as u64,
        inspected_at: RATES_PER_MILLE
            .iter()
            .map(|&p| RateK {
                rate_percent: percent(p),
                k: k_at(p, lines_total),
            })
            .collect(),
        overall: all.scores,
        by_detector: detectors
            .iter()
            .zip(each)
            .map(|(d, r)| (d.to_string(), r.scores))
            .collect(),
        by_label,
        series: evaluate_series(&series_findings, &labels.series),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::eval::fixtures::{case, line};
    use crate::eval::model::LineLabel;

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("a value");
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }
    #[test]
    fn hand_computed_overall() {
        let (findings, labels) = case();
        let r = evaluate(&findings, &labels, 100);
        assert_eq!(r.positive_lines, 4);
        assert_eq!(r.negative_lines, 1);
        assert_eq!(r.line_findings, 8);
        assert_eq!(r.series_findings, 3);
        // Series findings go to the series metrics and never enter the line rankings.
        assert_eq!(r.series.by_series_key["hs6_importer"].flagged, 2);
        assert!(!r.by_detector.contains_key("volume-surge"));
        assert_eq!(
            r.inspected_at.iter().map(|x| x.k).collect::<Vec<_>>(),
            vec![1, 1, 5, 10]
        );
        // 0.5% of 100 lines and 1% both inspect the top line.
        assert_eq!(r.overall.at[0].inspected, r.overall.at[1].inspected);
        let o = &r.overall;
        assert_eq!(o.flagged_lines, 6);
        assert_eq!(o.flagged_positives, 3);
        // 1%: k = 1, inspected D1 -> 1 hit. P = 1/1, R = 1/4.
        assert_eq!((o.at[1].inspected, o.at[1].positives), (1, 1));
        close(o.at[1].precision, 1.0);
        close(o.at[1].recall, 0.25);
        // 5%: k = 5, inspected D1..D5 -> hits D1, D3. P = 2/5, R = 2/4.
        // (Had the tie D5/D6 broken the other way, D6 would be inside: 3 hits.)
        assert_eq!((o.at[2].inspected, o.at[2].positives), (5, 2));
        close(o.at[2].precision, 0.4);
        close(o.at[2].recall, 0.5);
        // 10%: k = 10 but only 6 flagged -> 6 inspected, hits D1, D3, D6. P = 3/6, R = 3/4.
        assert_eq!((o.at[3].inspected, o.at[3].positives), (6, 3));
        close(o.at[3].precision, 0.5);
        close(o.at[3].recall, 0.75);
        // AP: D1 at rank 1 -> 1/1, D3 at rank 3 -> 2/3, D6 at rank 6 -> 3/6, D9 never
        // flagged -> 0. (1 + 2/3 + 1/2) / 4 = 13/24 = 0.541666...
        close(o.average_precision, 13.0 / 24.0);
    }

    /// Overall, lines rank by their risk (two weaker findings of one line can outrank a
    /// stronger single one); per detector, by the detector's score.
    #[test]
    fn lines_rank_by_risk_overall_and_by_score_per_detector() {
        let labels = Labels {
            lines: vec![LineLabel {
                declaration_id: "B".into(),
                line_no: Some(1),
                label: "wrong_unit".into(),
            }],
            series: Vec::new(),
        };
        let mut b = [
            line("robust-z", "B", 1, 5.0),
            line("mass-per-unit", "B", 1, 5.0),
        ];
        for f in &mut b {
            f.risk = 6.9;
        }
        let findings = [vec![line("robust-z", "A", 1, 6.0)], b.to_vec()].concat();
        // 100 lines: 1% inspects one line.
        let r = evaluate(&findings, &labels, 100);
        assert_eq!(r.overall.at[1].positives, 1, "B (risk 6.9) first");
        assert_eq!(
            r.by_detector["robust-z"].at[1].positives, 0,
            "A (6.0) first"
        );
    }

    #[test]
    fn hand_computed_per_detector() {
        let (findings, labels) = case();
        let r = evaluate(&findings, &labels, 100);
        assert_eq!(
            r.by_detector.keys().collect::<Vec<_>>(),
            vec!["iqr-fence", "robust-z"]
        );
        // robust-z ranks D1(9)+ D2(7)- D4(5)- D6(2)+.
        let z = &r.by_detector["robust-z"];
        // 0.5% and 1% of 100: k = 1.
        assert_eq!((z.at[0].inspected, z.at[0].precision), (1, Some(1.0)));
        assert_eq!((z.flagged_lines, z.flagged_positives), (4, 2));
        close(z.at[1].precision, 1.0); // D1
        close(z.at[1].recall, 0.25);
        assert_eq!(z.at[2].inspected, 4); // k = 5 > 4 flagged
        close(z.at[2].precision, 0.5); // D1, D6 of 4
        close(z.at[2].recall, 0.5);
        close(z.at[3].precision, 0.5);
        close(z.at[3].recall, 0.5);
        // AP: 1/1 (D1) + 2/4 (D6 at rank 4) = 1.5; / 4 = 0.375.
        close(z.average_precision, 0.375);

        // iqr-fence ranks D3(5)+ D1(4)+ D5(3)- D6(3)+ (tie D5/D6 by declaration id).
        let q = &r.by_detector["iqr-fence"];
        assert_eq!((q.flagged_lines, q.flagged_positives), (4, 3));
        close(q.at[1].precision, 1.0); // D3
        close(q.at[1].recall, 0.25);
        close(q.at[2].precision, 0.75); // 3 of 4
        close(q.at[2].recall, 0.75);
        // AP: 1/1 + 2/2 + 3/4 = 2.75; / 4 = 0.6875.
        close(q.average_precision, 0.6875);
    }

    #[test]
    fn hand_computed_recall_per_label() {
        let (findings, labels) = case();
        let r = evaluate(&findings, &labels, 100);
        assert_eq!(
            r.by_label.keys().collect::<Vec<_>>(),
            vec!["under_valuation", "wrong_unit"]
        );
        // under_valuation = {D1, D3}: both flagged. Ranks 1 and 3 overall: 1/2 at k = 1,
        // 2/2 at k = 5 and 10. robust-z flags D1 only; iqr-fence both.
        let u = &r.by_label["under_valuation"];
        assert_eq!((u.lines, u.found), (2, 2));
        let at: Vec<f64> = u.at.iter().map(|a| a.recall).collect();
        assert_eq!(at, vec![0.5, 0.5, 1.0, 1.0]);
        assert_eq!(u.by_detector["robust-z"].recall, 0.5);
        assert_eq!(u.by_detector["iqr-fence"].recall, 1.0);
        // wrong_unit = {D6, D9}: D6 flagged (rank 6), D9 never. 0 at k = 1 and 5, 1/2 at
        // k = 10; both detectors flag D6.
        let w = &r.by_label["wrong_unit"];
        assert_eq!((w.lines, w.found), (2, 1));
        assert_eq!(w.recall, 0.5);
        let at: Vec<f64> = w.at.iter().map(|a| a.recall).collect();
        assert_eq!(at, vec![0.0, 0.0, 0.0, 0.5]);
        assert_eq!(w.by_detector["robust-z"].recall, 0.5);
        assert_eq!(w.by_detector["iqr-fence"].recall, 0.5);
    }
    #[test]
    fn order_of_findings_does_not_matter_and_edges() {
        let (mut findings, labels) = case();
        let a = evaluate(&findings, &labels, 100);
        findings.reverse();
        assert_eq!(evaluate(&findings, &labels, 100), a);

        // k rounds up: 1% of 150 lines is 2 lines.
        assert_eq!(k_at(10, 150), 2);
        assert_eq!(k_at(5, 150), 1);
        assert_eq!(k_at(100, 0), 0);
        // No lines scanned: nothing inspected, precision null, recall 0.
        let r = evaluate(&findings, &labels, 0);
        assert_eq!(r.overall.at[0].inspected, 0);
        assert_eq!(r.overall.at[0].precision, None);
        assert_eq!(r.overall.at[0].recall, Some(0.0));
        // No labels: recall and AP null, precision 0.
        let r = evaluate(&findings, &Labels::default(), 100);
        assert_eq!(r.overall.average_precision, None);
        assert_eq!(r.overall.at[0].recall, None);
        assert_eq!(r.overall.at[0].precision, Some(0.0));
        // A line label with an empty line_no matches a finding with a null line_no.
        let f = vec![EvalFinding {
            line_no: None,
            ..line("robust-z", "D7", 0, 1.0)
        }];
        let l = Labels {
            lines: vec![LineLabel {
                declaration_id: "D7".into(),
                line_no: None,
                label: "x".into(),
            }],
            series: Vec::new(),
        };
        assert_eq!(evaluate(&f, &l, 10).overall.flagged_positives, 1);
    }
}
