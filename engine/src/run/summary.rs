//! The summary stage: the run record (`manifest.json`): what was read, skipped and why
//! (with where each reason was first seen), groups and lines per fallback level, and
//! findings per detector, family, level and series key.

use super::audit::RANDOM_AUDIT;
use super::measure::{Note, UnitMeasures};
use super::score::UnitScore;
use crate::baseline::{GroupLevel, MeasureBaseline};
use crate::detect::DetectorKind;
use crate::kernels::hash::{FxHashMap, fingerprint};
use crate::kernels::unit_value::SkipReason;
use crate::report::{Execution, Finding, IssueExample, Summary};
use crate::scan::ScanPlan;

/// What the run record says of the run itself.
pub struct RunInfo<'a> {
    /// The configuration as recorded (without threads and batch size).
    pub config_toml: &'a str,
    /// Worker threads.
    pub threads: usize,
    /// Rows per record batch.
    pub batch_size: usize,
}

#[allow(clippy::too_many_arguments)]
pub fn summarise(
    run: &RunInfo<'_>,
    plan: &ScanPlan,
    units: &[UnitMeasures],
    scored: &[UnitScore],
    findings: &[Finding],
    uv_base: &MeasureBaseline,
    levels: &[GroupLevel],
    kinds: &[DetectorKind],
) -> Summary {
    let mut s = Summary {
        tool: format!("tradescan {}", env!("CARGO_PKG_VERSION")),
        files: plan.files.len() as u64,
        bytes: plan.files.iter().map(|f| f.size).sum(),
        row_groups: plan.files.iter().map(|f| f.row_groups() as u64).sum(),
        row_groups_pruned: plan.row_groups_pruned as u64,
        rows_total: plan.files.iter().map(|f| f.rows()).sum(),
        rows_read: plan.rows(),
        manifest_version: 1,
        config: run.config_toml.to_string(),
        config_hash: fingerprint(run.config_toml.as_bytes()),
        execution: Execution {
            threads: run.threads,
            batch_size: run.batch_size,
        },
        ..Default::default()
    };
    for (ui, (u, sc)) in units.iter().zip(scored).enumerate() {
        for r in SkipReason::ALL {
            let i = r as usize - 1;
            if sc.skipped[i] > 0 {
                *s.rows_skipped.entry(r.name().to_string()).or_default() += sc.skipped[i];
            }
            if let Some(row) = sc.first[i]
                && !s.first_seen.contains_key(r.name())
            {
                s.first_seen
                    .insert(r.name().to_string(), locate(plan, ui, row, r.column()));
            }
        }
        for note in Note::ALL {
            let i = note as usize;
            if u.notes[i] > 0 {
                *s.data_quality.entry(note.name().to_string()).or_default() += u.notes[i];
            }
            if let Some(row) = u.first_note[i]
                && !s.first_seen.contains_key(note.name())
            {
                s.first_seen.insert(
                    note.name().to_string(),
                    locate(plan, ui, row, note.column()),
                );
            }
        }
    }
    let unreadable: u64 = plan.skipped.iter().filter_map(|f| f.rows).sum();
    if unreadable > 0 {
        *s.rows_skipped.entry("unreadable_input".into()).or_default() += unreadable;
    }
    s.inputs_skipped = plan.skipped.clone();
    if plan.rows_pruned > 0 {
        *s.rows_skipped
            .entry(SkipReason::OutsideDateWindow.name().into())
            .or_default() += plan.rows_pruned;
    }

    s.rows_scored = scored.iter().map(|x| x.scored).sum();
    for (k, kind) in kinds.iter().enumerate() {
        let n: u64 = scored
            .iter()
            .map(|x| x.no_spread.get(k).copied().unwrap_or(0))
            .sum();
        if n > 0 {
            s.no_spread.insert(kind.name().to_string(), n);
        }
        let w: u64 = scored
            .iter()
            .map(|x| x.local_withdrawn.get(k).copied().unwrap_or(0))
            .sum();
        if w > 0 {
            s.withdrawn_by_local_check
                .insert(kind.name().to_string(), w);
        }
    }
    // Counted per level index, then named: one name per level, not per group.
    let mut groups_at = vec![[0u64; 2]; levels.len()];
    let mut lines_at: Vec<Option<[u64; 2]>> = vec![None; levels.len()];
    // A fixed reference (`REFERENCE_LEVEL`) is no level of the chain: not counted.
    for g in uv_base.groups.iter().filter(|g| g.level < levels.len()) {
        groups_at[g.level][0] += 1;
        groups_at[g.level][1] += u64::from(g.tiers.is_some());
    }
    for (gid, r) in uv_base.resolved.iter().enumerate() {
        if let Some(g) = r
            .and_then(|gi| uv_base.groups.get(gi as usize))
            .filter(|g| g.level < levels.len())
        {
            let at = lines_at[g.level].get_or_insert([0, 0]);
            at[0] += uv_base.fine_counts[gid];
            at[1] += if g.tiers.is_some() {
                uv_base.fine_counts[gid]
            } else {
                0
            };
        }
    }
    for (l, level) in levels.iter().enumerate() {
        let [groups, tiered] = groups_at[l];
        if groups > 0 {
            *s.groups_per_level.entry(level.name()).or_default() += groups;
        }
        if tiered > 0 {
            *s.tiered_groups_per_level.entry(level.name()).or_default() += tiered;
        }
        if let Some([lines, tiered]) = lines_at[l] {
            *s.lines_per_level.entry(level.name()).or_default() += lines;
            if tiered > 0 {
                *s.tiered_lines_per_level.entry(level.name()).or_default() += tiered;
            }
        }
    }
    s.findings = findings.len() as u64;
    let mut lines: Vec<(u32, u32)> = findings
        .iter()
        .filter(|f| f.is_line() && f.detector != RANDOM_AUDIT)
        .map(|f| f.locator)
        .collect();
    lines.sort_unstable();
    lines.dedup();
    s.lines_flagged = lines.len() as u64;
    // Counted under borrowed names, then copied once per name.
    let mut by_detector: FxHashMap<&str, u64> = FxHashMap::default();
    let mut by_family: FxHashMap<&str, u64> = FxHashMap::default();
    let mut by_series: FxHashMap<&str, u64> = FxHashMap::default();
    let mut by_level: FxHashMap<&str, u64> = FxHashMap::default();
    for f in findings {
        *by_detector.entry(f.detector).or_default() += 1;
        for family in f.watch_family.as_deref().unwrap_or("none").split(';') {
            *by_family.entry(family).or_default() += 1;
        }
        match f.series_key {
            Some(key) => *by_series.entry(key).or_default() += 1,
            None if f.detector == RANDOM_AUDIT => {}
            None => *by_level.entry(&f.group_level).or_default() += 1,
        }
    }
    for (counts, into) in [
        (by_detector, &mut s.findings_by_detector),
        (by_family, &mut s.findings_by_watch_family),
        (by_series, &mut s.findings_by_series_key),
        (by_level, &mut s.findings_by_level),
    ] {
        for (name, n) in counts {
            *into.entry(name.to_string()).or_default() += n;
        }
    }
    s
}

/// Where row `row` of unit `ui` is: file, row group, row within the row group.
fn locate(plan: &ScanPlan, ui: usize, row: u64, column: &str) -> IssueExample {
    let unit = &plan.units[ui];
    let file = &plan.files[unit.file];
    let (row_group, row) = unit.locate(file, row);
    IssueExample {
        file: file.path.display().to_string(),
        row_group,
        row,
        column: column.to_string(),
    }
}
