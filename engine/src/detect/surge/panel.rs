//! The surge detector over one panel: its pooled spreads, every series' walk, and the
//! findings of its flags.

use super::{ActiveCell, Series, SeriesFlag, Surge, SurgeBasis, SurgeCounts, SurgeScratch};
use crate::detect::DetectorKind;
use crate::detect::series::SeriesContext;
use crate::kernels::counts::GammaPrior;
use crate::kernels::dates::format_ymd;
use crate::kernels::order_stats::median_in_place;
use crate::kernels::tail::ln_normal_sf;
use crate::report::{Finding, sig};
use crate::series::SeriesKind;
use crate::series::cells::CellAgg;
use crate::series::entries::{
    Entry, PanelContext, PanelView, Prior, SeriesIndex, lines_into, typical_of,
};
use crate::series::panel::Panel;

/// Buffers of the surge walk, reused from panel to panel by one worker.
#[derive(Debug, Clone, Default)]
pub struct SurgeWork {
    scratch: SurgeScratch,
    row: Vec<f64>,
    line_row: Vec<f64>,
    /// Line counts of the active periods of a panel's occasional series.
    occasional: Vec<f64>,
    cells: Vec<ActiveCell>,
    flags: Vec<SeriesFlag>,
}

impl SurgeWork {
    /// Buffers for `surge` (none needed without it).
    pub fn new(surge: Option<&Surge>) -> SurgeWork {
        SurgeWork {
            scratch: surge.map(SurgeScratch::new).unwrap_or_default(),
            ..Default::default()
        }
    }
}

/// The context of a panel computed from its own series (`index` is rebuilt for
/// `entries`).
pub fn panel_context(
    surge: Option<&Surge>,
    entries: &[Entry],
    periods: usize,
    index: &mut SeriesIndex,
    work: &mut SurgeWork,
) -> PanelContext {
    index.index(entries);
    let prior = match surge {
        Some(surge) => {
            let panel = Panel::build(index.keys.len(), periods, &index.panel_entries);
            surge.pooled_prior(entries, index, &panel, periods, work)
        }
        None => Prior::default(),
    };
    PanelContext {
        prior,
        typical: typical_of(entries),
    }
}

impl Surge {
    /// The panel's prior: the pooled spreads of its walked series, and the count model
    /// of its series' rates (every series, from its first line to the end of the data).
    fn pooled_prior(
        &self,
        entries: &[Entry],
        index: &SeriesIndex,
        panel: &Panel,
        periods: usize,
        work: &mut SurgeWork,
    ) -> Prior {
        let mut spreads: (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
        let mut rates: Vec<(f64, f64)> = Vec::with_capacity(index.keys.len());
        work.occasional.clear();
        for s in 0..index.keys.len() {
            let run = index.run(entries, s);
            let lines: u64 = run.iter().map(|e| u64::from(e.2.lines)).sum();
            let span = periods.saturating_sub(run[0].1 as usize);
            rates.push((lines as f64, span as f64));
            if run.len() * 2 <= span {
                work.occasional
                    .extend(run.iter().map(|e| f64::from(e.2.lines)));
            }
            if !self.walks(run.len()) {
                continue;
            }
            panel.row_into(s, &mut work.row);
            lines_into(run, periods, &mut work.line_row);
            if let Some((a, n)) = self.series_spread(&work.row, &work.line_row, &mut work.scratch) {
                spreads.0.push(a);
                spreads.1.push(n);
            }
        }
        let cluster_size = cluster_size(&mut work.occasional);
        for r in &mut rates {
            r.0 /= cluster_size;
        }
        let mean = rates.iter().map(|r| r.0).sum::<f64>() / rates.iter().map(|r| r.1).sum::<f64>();
        Prior {
            ln_amount: median_in_place(&mut spreads.0),
            lines: median_in_place(&mut spreads.1),
            rates: GammaPrior::fit(&rates).unwrap_or(GammaPrior::weak(mean)),
            cluster_size,
        }
    }

    /// Walk every series of a panel; `context` (from a stored baseline) replaces the
    /// panel's own prior. Findings go to `out`, counts to `counts`.
    pub fn judge_panel(
        &self,
        p: &PanelView<'_>,
        context: Option<&PanelContext>,
        ctx: &SeriesContext<'_>,
        work: &mut SurgeWork,
        counts: &mut SurgeCounts,
        out: &mut Vec<Finding>,
    ) {
        let grid = ctx.grid;
        let prior = match context {
            Some(c) => c.prior,
            None => self.pooled_prior(p.entries, p.index, p.panel, grid.len, work),
        };
        for s in 0..p.index.keys.len() {
            let run = p.index.run(p.entries, s);
            work.flags.clear();
            if self.walks(run.len()) {
                p.panel.row_into(s, &mut work.row);
                lines_into(run, grid.len, &mut work.line_row);
                let series = Series {
                    amounts: &work.row,
                    lines: &work.line_row,
                    prior,
                    from: ctx.from,
                };
                self.judge_series(
                    &series,
                    |t| grid.complete(t),
                    &mut work.scratch,
                    counts,
                    &mut work.flags,
                );
            } else if !run.iter().any(|e| f64::from(e.2.lines) >= self.min_lines()) {
                // Too few lines for the count model in any period: counted, not walked.
                if let Some(first) = run.iter().find(|e| e.2.amount.value() > 0.0) {
                    self.count_occasional(first.1 as usize, grid.len, ctx.from, counts);
                }
            } else {
                // Too few active periods for a window rule: the count model alone,
                // from the active periods.
                work.cells.clear();
                work.cells.extend(
                    run.iter()
                        .map(|e| (e.1 as usize, f64::from(e.2.lines), e.2.amount.value())),
                );
                self.judge_occasional(
                    &work.cells,
                    grid.len,
                    prior,
                    ctx.from,
                    counts,
                    &mut work.flags,
                );
            }
            for f in &work.flags {
                let agg = run
                    .binary_search_by_key(&(f.t as u32), |e| e.1)
                    .map_or(CellAgg::default(), |i| run[i].2);
                out.push(Self::finding(
                    ctx,
                    p.hs6,
                    p.mask,
                    p.kind,
                    p.index.keys[s],
                    f,
                    &agg,
                ));
            }
        }
    }

    fn finding(
        ctx: &SeriesContext<'_>,
        hs6: u64,
        mask: u64,
        kind: SeriesKind,
        key: u64,
        f: &SeriesFlag,
        agg: &CellAgg,
    ) -> Finding {
        let g = &ctx.grid;
        let w = &f.window;
        let measure = ctx.measure.name().replace('_', " ");
        let median = f.baseline_median();
        let (period, when) = (
            g.kind.name(),
            format!("{} {}", g.label(), format_ymd(g.start(f.t))),
        );
        let tail = ln_normal_sf(f.score).exp();
        let totals = format!("{} lines, value {}", agg.lines, sig(agg.value.value()));
        let amount = format!("{measure} {}, {totals}", sig(f.observed));
        let mut explanation = match f.basis {
            SurgeBasis::Amount | SurgeBasis::Lines => {
                let lead = if f.basis == SurgeBasis::Amount {
                    format!(
                        "{measure} {} in the {when} is {:.1}x the median {} of the active {period}s",
                        sig(f.observed),
                        f.observed / median,
                        sig(median)
                    )
                } else {
                    format!(
                        "{} lines in the {when} against a median of {} lines in the active {period}s",
                        f.lines,
                        sig(f.expected_lines)
                    )
                };
                let totals = if f.basis == SurgeBasis::Amount {
                    &totals
                } else {
                    &amount
                };
                format!(
                    "{lead} ({} of the previous {}; score {:.1}, probability {tail:.1e}; {totals})",
                    w.count, w.len, f.score
                )
            }
            SurgeBasis::Count => format!(
                "{} lines in the {when} where {} lines in the previous {} {period}s and the \
                 series of its HS6 lead one to expect {} (score {:.1}, probability {tail:.1e}; \
                 {amount})",
                f.lines,
                f.window_lines,
                w.len,
                sig(f.expected_lines),
                f.score
            ),
            SurgeBasis::Drop => format!(
                "{measure} {} in the {when} is {:.1}x the median {} of the previous {} \
                 {period}s (score {:.1}, probability {tail:.1e}; {totals})",
                sig(f.observed),
                f.observed / median,
                sig(median),
                w.len,
                f.score,
            ),
        };
        if f.episode > 1 {
            explanation.push_str(&format!(
                "; one episode of {} consecutive {}s",
                f.episode,
                g.kind.name()
            ));
        }
        if mask != 0 {
            explanation.push_str("; in a watched family");
        }
        let mut out = ctx.base(
            DetectorKind::Surge,
            hs6,
            kind,
            key,
            g.start(f.t),
            g.kind.name(),
            f.observed,
            agg,
        );
        explanation = format!("{}: {explanation}", out.group_key);
        out.baseline_median = median;
        out.baseline_mad = (!w.mad.is_nan()).then_some(w.mad);
        out.group_size = w.len as u64;
        out.score = f.score;
        out.direction = f.direction.name();
        out.history_len = Some(f.t as u64);
        out.rule = Some(f.basis.name());
        out.explanation = explanation;
        out
    }
}

/// The mean cluster size from the line counts of the active periods of a panel's
/// occasional series: their mean over the periods with at most three times the upper
/// quartile of lines (a burst, the thing looked for, would otherwise set the scale it
/// is judged on), at least 1.
fn cluster_size(lines: &mut [f64]) -> f64 {
    if lines.is_empty() {
        return 1.0;
    }
    let q3 = lines.len() * 3 / 4;
    let (_, &mut upper, _) = lines.select_nth_unstable_by(q3, f64::total_cmp);
    let fence = 3.0 * upper;
    let (n, sum) = lines
        .iter()
        .filter(|&&n| n <= fence)
        .fold((0.0, 0.0), |(k, s), &n| (k + 1.0, s + n));
    if n > 0.0 { (sum / n).max(1.0) } else { 1.0 }
}
