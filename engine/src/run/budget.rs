//! The inspection budget: which findings a run keeps.
//!
//! **Risk score.** Every detector scores in standard-deviation equivalents, so they
//! rank on one scale: an inspection item's risk is [`Finding::risk`] (a line's
//! combined score, the same on all its findings; a series finding's score). An item
//! is a declaration line (all its findings, whatever the detector) or a volume series
//! finding (series key, key values and period). `--budget N` keeps
//! the findings of the `N` items with the highest risk (ties broken by the findings'
//! output order); `--budget-per office` keeps `N` per office (series not cut by office
//! share the group `none`). Random-audit lines are never cut by the budget: they are
//! the unbiased control sample.
//!

use std::collections::BTreeMap;

use super::audit::RANDOM_AUDIT;
use crate::config::{BudgetPer, SelectionConfig};
use crate::kernels::hash::FxHashMap;
use crate::report::{BudgetRecord, Finding};

/// An inspection item: a line (scan unit, row) or one series finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Item {
    Line(u32, u32),
    Series(usize),
}

/// Keep the findings of the highest-risk items; `findings` must be in output order
/// (risk descending). Returns `None` when no budget is set.
pub fn apply_budget(findings: &mut Vec<Finding>, sel: &SelectionConfig) -> Option<BudgetRecord> {
    if sel.budget == 0 {
        return None;
    }
    let item_of = |i: usize, f: &Finding| {
        if f.is_line() {
            Item::Line(f.locator.0, f.locator.1)
        } else {
            Item::Series(i)
        }
    };
    // Findings come by descending risk: items are ranked in order of first appearance.
    let mut kept: FxHashMap<Item, bool> = FxHashMap::default();
    let mut per_group: BTreeMap<Option<String>, usize> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if f.detector == RANDOM_AUDIT {
            continue;
        }
        let item = item_of(i, f);
        if kept.contains_key(&item) {
            continue;
        }
        let group = match sel.budget_per {
            Some(BudgetPer::Office) => f.office.clone(),
            None => None,
        };
        let n = per_group.entry(group).or_default();
        let keep = *n < sel.budget;
        *n += usize::from(keep);
        kept.insert(item, keep);
    }
    let record = BudgetRecord {
        budget: sel.budget,
        per: sel.budget_per.map(|_| "office".to_string()),
        items_before: kept.len() as u64,
        items_kept: kept.values().filter(|k| **k).count() as u64,
        findings_before: findings.len() as u64,
    };
    let mut i = 0;
    findings.retain(|f| {
        let keep = f.detector == RANDOM_AUDIT || kept.get(&item_of(i, f)).copied().unwrap_or(false);
        i += 1;
        keep
    });
    Some(record)
}
