//! Series metrics: which labelled series periods the series findings flag, and the
//! flagged periods that match no label.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{
    BenignFlags, Recall, SeriesFlags, SeriesId, SeriesLabel, SeriesLabelRecall, SeriesReport,
    is_benign_label, ratio,
};

impl SeriesLabel {
    /// Whether `id` flags this labelled series period (rule in the [`eval`](super) docs).
    pub fn matches(&self, id: &SeriesId) -> bool {
        let same = |label: &Option<String>, found: &Option<String>| {
            label.is_none() || label.as_deref() == found.as_deref()
        };
        self.series_key == id.series_key
            && Some(self.hs6.as_str()) == id.hs6.as_deref()
            && same(&self.importer_id, &id.importer_id)
            && same(&self.origin, &id.origin)
            && same(&self.office, &id.office)
            && Some(self.period_start) == id.period_start
    }
}

/// Series recall and false alarms (rules in the [`eval`](super) docs).
pub(super) fn evaluate_series(
    findings: &[(&str, &SeriesId)],
    labels: &[SeriesLabel],
) -> SeriesReport {
    // Candidate labels by (series_key, hs6, period_start); the optional key fields are
    // checked by `SeriesLabel::matches`.
    let mut candidates: BTreeMap<(&str, &str, i32), Vec<usize>> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        candidates
            .entry((l.series_key.as_str(), l.hs6.as_str(), l.period_start))
            .or_default()
            .push(i);
    }
    let matching = |id: &SeriesId| -> Vec<usize> {
        let (Some(hs6), Some(start)) = (id.hs6.as_deref(), id.period_start) else {
            return Vec::new();
        };
        candidates
            .get(&(id.series_key.as_str(), hs6, start))
            .map(|c| {
                c.iter()
                    .copied()
                    .filter(|&i| labels[i].matches(id))
                    .collect()
            })
            .unwrap_or_default()
    };

    let distinct: BTreeSet<(&str, &SeriesId)> = findings.iter().copied().collect();
    let mut found_by: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    let mut by_detector: BTreeMap<String, BTreeMap<String, SeriesFlags>> = BTreeMap::new();
    let mut by_series_key: BTreeMap<String, SeriesFlags> = BTreeMap::new();
    let mut overall_seen: BTreeSet<&SeriesId> = BTreeSet::new();
    let mut benign_hit: BTreeSet<usize> = BTreeSet::new();
    for (detector, id) in distinct {
        let (benign, matched): (Vec<usize>, Vec<usize>) = matching(id)
            .into_iter()
            .partition(|&i| is_benign_label(&labels[i].label));
        benign_hit.extend(benign);
        let count = |flags: &mut SeriesFlags| {
            flags.flagged += 1;
            if matched.is_empty() {
                flags.false_alarms += 1;
            } else {
                flags.matched += 1;
            }
        };
        count(
            by_detector
                .entry(detector.to_string())
                .or_default()
                .entry(id.series_key.clone())
                .or_default(),
        );
        if overall_seen.insert(id) {
            count(by_series_key.entry(id.series_key.clone()).or_default());
        }
        found_by.entry(detector).or_default().extend(matched);
    }
    let found_any: BTreeSet<usize> = found_by.values().flatten().copied().collect();

    let mut by_label: BTreeMap<String, SeriesLabelRecall> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        if is_benign_label(&l.label) {
            continue;
        }
        let e = by_label
            .entry(l.label.trim().to_string())
            .or_insert_with(|| SeriesLabelRecall {
                labels: 0,
                found: 0,
                recall: 0.0,
                by_detector: found_by
                    .keys()
                    .map(|d| {
                        (
                            d.to_string(),
                            Recall {
                                found: 0,
                                recall: 0.0,
                            },
                        )
                    })
                    .collect(),
            });
        e.labels += 1;
        e.found += u64::from(found_any.contains(&i));
        for (d, set) in &found_by {
            if let Some(r) = e.by_detector.get_mut(*d) {
                r.found += u64::from(set.contains(&i));
            }
        }
    }
    for e in by_label.values_mut() {
        let n = e.labels;
        e.recall = ratio(e.found, n).unwrap_or(0.0);
        for r in e.by_detector.values_mut() {
            r.recall = ratio(r.found, n).unwrap_or(0.0);
        }
    }
    let mut benign: BTreeMap<String, BenignFlags> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        if l.label.trim().starts_with("benign_") {
            let b = benign.entry(l.label.trim().to_string()).or_default();
            b.labels += 1;
            b.flagged += u64::from(benign_hit.contains(&i));
        }
    }
    SeriesReport {
        by_label,
        by_series_key,
        by_detector,
        benign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::fixtures::{case, series, series_label};
    use crate::kernels::dates::parse_ymd;

    #[test]
    fn hand_computed_series() {
        let (findings, labels) = case();
        let flagged: Vec<(&str, &SeriesId)> = findings
            .iter()
            .filter_map(|f| f.series.as_ref().map(|id| (f.detector.as_str(), id)))
            .collect();
        let r = evaluate_series(&flagged, &labels.series);
        // Labels: IM1 week of 2025-03-03 (found), IM2 same week (not found): recall 1/2.
        let v = &r.by_label["volume_surge"];
        assert_eq!((v.labels, v.found), (2, 1));
        assert_eq!(v.recall, 0.5);
        assert_eq!(v.by_detector["volume-surge"].found, 1);
        // Distinct flagged periods: IM1 03-03 (matched) and IM1 03-10 (false alarm).
        let want = SeriesFlags {
            flagged: 2,
            matched: 1,
            false_alarms: 1,
        };
        assert_eq!(r.by_series_key["hs6_importer"], want);
        assert_eq!(r.by_detector["volume-surge"]["hs6_importer"], want);
    }

    /// A flag on a benign label (a seasonal peak) is a false alarm, counted apart; the
    /// benign label has no recall.
    #[test]
    fn flags_on_benign_labels_are_false_alarms() {
        let labels = vec![
            series_label("volume_surge", "IM1", "2025-03-03"),
            series_label("benign_seasonal_peak", "IM2", "2025-03-03"),
            series_label("benign_seasonal_peak", "IM2", "2025-03-10"),
        ];
        let f = [
            series("surge", "IM1", "2025-03-03", 9.0),
            series("surge", "IM2", "2025-03-03", 9.0),
        ];
        let flagged: Vec<(&str, &SeriesId)> = f
            .iter()
            .filter_map(|f| f.series.as_ref().map(|id| (f.detector.as_str(), id)))
            .collect();
        let r = evaluate_series(&flagged, &labels);
        assert_eq!(
            r.by_series_key["hs6_importer"],
            SeriesFlags {
                flagged: 2,
                matched: 1,
                false_alarms: 1
            }
        );
        assert!(!r.by_label.contains_key("benign_seasonal_peak"));
        assert_eq!(
            r.benign["benign_seasonal_peak"],
            BenignFlags {
                labels: 2,
                flagged: 1
            }
        );
    }

    #[test]
    fn series_match_rule() {
        let l = series_label("volume_surge", "IM1", "2025-03-03");
        let (_, mut id) = match series("d", "IM1", "2025-03-03", 1.0).series {
            Some(id) => ((), id),
            None => unreachable!(),
        };
        assert!(l.matches(&id));
        // A key field the label leaves empty does not constrain the finding.
        id.origin = Some("CN".into());
        assert!(l.matches(&id));
        let mut other = id.clone();
        other.importer_id = Some("IM2".into());
        assert!(!l.matches(&other));
        let mut other = id.clone();
        other.series_key = "hs6_origin".into();
        assert!(!l.matches(&other));
        let mut other = id.clone();
        other.period_start = parse_ymd("2025-03-04");
        assert!(!l.matches(&other));
        let mut other = id;
        other.hs6 = Some("300491".into());
        assert!(!l.matches(&other));
    }
}
