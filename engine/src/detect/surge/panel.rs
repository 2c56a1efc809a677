//! The surge detector over one panel: its pooled spreads, every series' walk, and the
//! findings of its flags.

use super::{FlagScale, Series, SeriesFlag, Surge, SurgeCounts, SurgeScratch};
use crate::detect::series::SeriesContext;
use crate::detect::{DetectorKind, Direction};
use crate::kernels::dates::format_ymd;
use crate::kernels::order_stats::median_in_place;
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
    /// The pooled spreads of a panel's series (series [`Surge::may_judge`] turns away
    /// do not count).
    fn pooled_prior(
        &self,
        entries: &[Entry],
        index: &SeriesIndex,
        panel: &Panel,
        periods: usize,
        work: &mut SurgeWork,
    ) -> Prior {
        let mut spreads: (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
        for s in 0..index.keys.len() {
            let run = index.run(entries, s);
            if !self.may_judge(run.len()) {
                continue;
            }
            panel.row_into(s, &mut work.row);
            lines_into(run, periods, &mut work.line_row);
            if let Some((a, n)) = self.series_spread(&work.row, &work.line_row, &mut work.scratch) {
                spreads.0.push(a);
                spreads.1.push(n);
            }
        }
        Prior {
            ln_amount: median_in_place(&mut spreads.0),
            lines: median_in_place(&mut spreads.1),
        }
    }

    /// Walk every series of a panel; `context` (from a stored baseline) replaces the
    /// panel's own pooled spreads. Findings go to `out`, counts to `counts`.
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
            if !self.may_judge(run.len()) {
                // Too few periods with a line to ever be judged: counted, not walked.
                self.count_unwalked(grid.len, counts);
                continue;
            }
            p.panel.row_into(s, &mut work.row);
            lines_into(run, grid.len, &mut work.line_row);
            work.flags.clear();
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
        let ratio = format!("{:.1}x", f.observed / median);
        let active = match f.scale {
            FlagScale::LnActive => format!(
                " ({} active, with a median of {} lines)",
                w.count,
                sig(f.lines_median)
            ),
            FlagScale::Amount => String::new(),
        };
        let mut explanation = format!(
            "{measure} {} in the {} {} is {ratio} the median {} of the previous {} {}s{active} \
             (robust z {:.1}; {} lines, value {})",
            sig(f.observed),
            g.label(),
            format_ymd(g.start(f.t)),
            sig(median),
            w.len,
            g.kind.name(),
            if f.direction == Direction::Low {
                -f.score
            } else {
                f.score
            },
            agg.lines,
            sig(agg.value.value()),
        );
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
        out.baseline_mad = Some(w.mad);
        out.group_size = w.len as u64;
        out.score = f.score;
        out.direction = f.direction.name();
        out.history_len = Some(f.t as u64);
        out.explanation = explanation;
        out
    }
}
