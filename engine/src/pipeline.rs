//! The scan job: plan -> measure (parallel per unit) -> merge group ids in unit order
//! -> baselines -> score (parallel per unit) -> read the flagged lines' details ->
//! sort with a total order.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

use crate::baseline::{
    FineKey, GroupBaseline, GroupLevel, MeasureBaseline, NO_GROUP, StoredGroups, build_baseline,
};
use crate::config::Config;
use crate::detect::{Detector, DetectorKind, Judgement, Measure};
use crate::error::{Error, Result};
use crate::kernels::arrow_edge::{NULL_DATE, date_days, f64_values, i64_values, strings};
use crate::kernels::hash::FxHashMap;
use crate::kernels::hash::{file_fingerprint, fingerprint};
use crate::kernels::intern::KeyIndex;
use crate::kernels::order_stats::OrderStats;
use crate::kernels::prefetch::prefetch;
use crate::kernels::unit_value::{Basis, SkipReason};
use crate::price::{MeasureOptions, MeasureScratch, Note, UnitMeasures, measure_unit_with};
use crate::report::{Finding, InputRecord, IssueExample, Sig, Summary};
use crate::scan::{ScanPlan, column_error, discover, plan, read_unit};
use crate::schema::Col;
use crate::store::BaselineState;
use crate::volume::analyse::VolumeSettings;
use crate::volume::cells::{UnitCells, merge as merge_cells};
use crate::volume::{analyse, analyse_against};
use crate::watch::WatchIndex;

/// Receives progress of long stages; the CLI draws a bar, the library never prints.
pub trait Progress: Sync {
    /// A stage starts, covering `total` rows.
    fn stage(&self, _name: &str, _total: u64) {}
    /// `rows` more rows are done.
    fn advance(&self, _rows: u64) {}
    /// The stage is over.
    fn finish(&self) {}
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// The result of a scan: sorted findings and the run record.
#[derive(Debug, Clone)]
pub struct ScanOutput {
    /// Findings in output order.
    pub findings: Vec<Finding>,
    /// The run record.
    pub summary: Summary,
}

/// The engine: a validated configuration and its own thread pool.
pub struct Engine {
    config: Config,
    pool: rayon::ThreadPool,
    watch: WatchIndex,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("threads", &self.threads())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Validate the configuration and start a pool of `config.scan.threads` workers
    /// (0: one per core).
    pub fn new(config: Config) -> Result<Engine> {
        config.validate()?;
        let watch = WatchIndex::with_lists(&config.watch.lists)?;
        watch.mask_of_names(&config.watch.only, "watch.only (--watch)")?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.scan.threads)
            .thread_name(|i| format!("tradescan-{i}"))
            .build()
            .map_err(|e| Error::Internal(format!("cannot start thread pool: {e}")))?;
        Ok(Engine {
            config,
            pool,
            watch,
        })
    }

    /// The watch families in force (shipped and users' lists).
    pub fn watch(&self) -> &WatchIndex {
        &self.watch
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Write a scan's outputs (see [`crate::write_scan_output`]), encoding the findings
    /// on the engine's workers.
    pub fn write_output(&self, out: &ScanOutput, opts: &crate::OutputOptions) -> Result<()> {
        crate::output::write_scan_output_in(out, opts, Some(&self.pool))
    }

    /// The worker pool.
    pub(crate) fn pool(&self) -> &rayon::ThreadPool {
        &self.pool
    }

    /// Worker threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Discover the inputs' files and plan the units of work.
    pub fn plan(&self, inputs: &[PathBuf]) -> Result<ScanPlan> {
        let files = discover(inputs)?;
        plan(
            &files,
            &self.config.mapping()?,
            self.config.date_window()?,
            &self.pool,
            self.config.scan.keep_going,
        )
    }

    /// Scan the inputs: build baselines from them and score every line against them.
    pub fn scan(&self, inputs: &[PathBuf], progress: &dyn Progress) -> Result<ScanOutput> {
        self.scan_with(inputs, None, progress)
    }

    /// Scan the inputs against a stored baseline: the inputs' lines are judged against
    /// the history's groups, the series they touch against their stored history, and
    /// only the inputs' lines (and the series periods they touch) are reported (see
    /// [`crate::store`]).
    pub fn scan_with(
        &self,
        inputs: &[PathBuf],
        baseline: Option<&BaselineState>,
        progress: &dyn Progress,
    ) -> Result<ScanOutput> {
        let meta = match baseline {
            Some(b) => {
                let meta = b.meta.as_ref().ok_or_else(|| {
                    Error::Internal("a baseline state without its baseline.json".into())
                })?;
                self.check_baseline(meta)?;
                Some(meta)
            }
            None => None,
        };
        let t0 = Instant::now();
        let mut timings = BTreeMap::new();
        if let Some(b) = baseline {
            timings.insert("baseline_read".to_string(), b.read_ms);
        }
        let mut plan = self.plan(inputs)?;
        if let Some(meta) = meta {
            refuse_fitted_inputs(&plan, meta, &self.pool)?;
        }
        lap(&mut timings, "plan", t0);

        let levels = self.config.levels()?;
        let kinds = self.config.detector_kinds()?;
        let detectors: Vec<Box<dyn Detector>> = kinds
            .iter()
            .filter_map(|k| k.price_detector(&self.config.detectors))
            .collect();
        let volume = VolumeSettings::from_config(&self.config, &self.watch)?;
        let window = self.config.date_window()?;
        let opts = MeasureOptions {
            denominator: self.config.price.denominator,
            window,
            kg_per_unit: detectors.iter().any(|d| d.measure() == Measure::KgPerUnit),
            batch_size: self.config.scan.batch_size,
            volume: volume.as_ref().map(|v| v.cell_options(window)),
            keep_dates: false,
        };

        // Pass 1: per-line keys and measures, in parallel per unit.
        let t = Instant::now();
        progress.stage("reading", plan.rows());
        let measured: Vec<Result<UnitMeasures>> = self.pool.install(|| {
            plan.units
                .par_iter()
                .map_init(MeasureScratch::default, |work, u| {
                    let m = measure_unit_with(&plan, u, &opts, work);
                    progress.advance(u.rows);
                    m
                })
                .collect()
        });
        progress.finish();
        let mut units = Vec::with_capacity(measured.len());
        let mut failed = Vec::new();
        for (ui, m) in measured.into_iter().enumerate() {
            match m {
                Ok(m) => units.push(m),
                Err(e) if self.config.scan.keep_going && e.skippable() => {
                    failed.push((plan.units[ui].file, e.to_string()));
                    units.push(UnitMeasures::default());
                }
                Err(e) => return Err(e),
            }
        }
        if !failed.is_empty() {
            // Every unit of a failed file goes: the file is skipped whole.
            let keep = plan.drop_files(&failed);
            let mut i = 0;
            units.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
        lap(&mut timings, "measure", t);

        // Volume: merge the units' cells (in unit order) and run the volume detectors.
        let t = Instant::now();
        let volume_out = volume.map(|settings| {
            let mut cells: Vec<UnitCells> =
                units.iter_mut().filter_map(|u| u.cells.take()).collect();
            let new_first = cells.iter().filter_map(|c| c.day_range).map(|r| r.0).min();
            if let Some(b) = baseline {
                // The history's symbols first: the new cells get the stored ids.
                cells.insert(0, b.volume.symbol_unit());
            }
            let merged = self.pool.install(|| merge_cells(cells));
            lap(&mut timings, "volume_merge", t);
            let t = Instant::now();
            let mut out = self.pool.install(|| match baseline {
                Some(b) => analyse_against(&merged, &b.volume, &settings, &self.watch),
                None => analyse(&merged, &settings, &self.watch),
            });
            if baseline.is_some() {
                // Only the periods the new data touches are reported.
                out.findings
                    .retain(|f| new_first.is_some_and(|d| touches(f, d)));
            }
            lap(&mut timings, "volume", t);
            out
        });

        // Merge local group ids into global ids, in unit order.
        let t = Instant::now();
        let keys = merge_groups(&mut units, &self.pool);
        lap(&mut timings, "merge", t);

        // Baselines per measure (and the local baselines of the fallback check).
        let t = Instant::now();
        let price = &self.config.price;
        // A measure's chain stops at the first level one of its detectors does not accept
        // (mass-per-unit: national-code levels only), so no statistics are computed for
        // groups nobody judges.
        let chain = |m: Measure| {
            let judges = |l: &GroupLevel| {
                detectors
                    .iter()
                    .filter(|d| d.measure() == m)
                    .all(|d| d.accepts_level(l))
            };
            &levels[..levels.iter().take_while(|l| judges(l)).count()]
        };
        let (uv, kg) = self.pool.install(|| {
            let parts = |f: fn(&UnitMeasures) -> &[f64]| -> Vec<(&[u32], &[f64])> {
                units.iter().map(|u| (u.gid.as_slice(), f(u))).collect()
            };
            let stored = |m: Measure| {
                baseline.map(|b| {
                    if m == Measure::UnitValue {
                        &b.uv
                    } else {
                        &b.kg
                    }
                })
            };
            let uv = Baselines::build(
                &parts(|u| &u.uv),
                &keys,
                chain(Measure::UnitValue),
                price,
                stored(Measure::UnitValue),
            );
            let kg_chain = chain(Measure::KgPerUnit);
            let kg = (opts.kg_per_unit && !kg_chain.is_empty()).then(|| {
                Baselines::build(
                    &parts(|u| &u.kgpu),
                    &keys,
                    kg_chain,
                    price,
                    stored(Measure::KgPerUnit),
                )
            });
            (uv, kg)
        });
        lap(&mut timings, "baseline", t);

        // Pass 2: score every line.
        let t = Instant::now();
        let restrict = self
            .watch
            .mask_of_names(&self.config.watch.only, "watch.only")?;
        let watched: Option<Vec<bool>> = (restrict != 0).then(|| {
            keys.iter()
                .map(|k| self.watch.mask_of(k.hs) & restrict != 0)
                .collect()
        });
        let ctx = ScoreContext {
            detectors: &detectors,
            levels: &levels,
            uv: &uv,
            kg: kg.as_ref(),
            watched: watched.as_deref(),
        };
        let mut scored: Vec<UnitScore> = self
            .pool
            .install(|| units.par_iter().map(|u| ctx.score_unit(u)).collect());
        let audit = &self.config.selection;
        if audit.random_audit > 0.0 {
            for (ui, (sc, u)) in scored.iter_mut().zip(&units).enumerate() {
                sc.audit = draw_audit(sc, u, ui, audit.random_audit, audit.seed);
            }
        }
        // The per-line measures are judged; only the group ids are needed from here on.
        for u in &mut units {
            u.release_measures();
        }
        lap(&mut timings, "score", t);

        // Pass 3: details of flagged lines. Each unit reads its flagged lines back and
        // lists the findings it will produce; the list is sorted on light entries and
        // the findings are built straight into their output positions (a `Finding` is
        // large: building, concatenating and sorting them costs more than the sort keys).
        let t = Instant::now();
        let batch_size = self.config.scan.batch_size;
        let per_unit = self.pool.install(|| {
            scored
                .par_iter()
                .enumerate()
                .map(|(ui, s)| {
                    if s.flags.is_empty() && s.audit.is_empty() {
                        return Ok(UnitDetails::default());
                    }
                    self.details(&plan, ui, s, &units[ui], &keys, &ctx, batch_size)
                })
                .collect::<Result<Vec<UnitDetails>>>()
        })?;
        let mut pending: Vec<Pending> =
            Vec::with_capacity(per_unit.iter().map(|d| d.pending.len()).sum());
        for d in &per_unit {
            pending.extend_from_slice(&d.pending);
        }
        let texts = self
            .pool
            .install(|| SharedTexts::build(&pending, &levels, &self.watch));
        let build = FindingBuilder {
            per_unit: &per_unit,
            levels: &levels,
            watch: &self.watch,
            selection: &self.config.selection,
            texts: &texts,
        };
        let (volume_findings, volume_summary) = match volume_out {
            Some(v) => (v.findings, Some(v.summary)),
            None => (Vec::new(), None),
        };
        // Room for the volume findings too: findings are large, and growing the vector
        // would copy them all.
        let mut findings: Vec<Finding> = Vec::with_capacity(pending.len() + volume_findings.len());
        self.pool.install(|| {
            pending.par_sort_unstable_by(|a, b| build.order(a, b));
            findings.par_extend(pending.par_iter().map(|p| build.finding(p)));
        });
        drop(pending);
        // Hundreds of thousands of small strings: freed on the workers.
        self.pool
            .install(|| per_unit.into_par_iter().for_each(drop));
        if !volume_findings.is_empty() {
            findings.extend(volume_findings);
            findings.par_sort_unstable_by(Finding::output_order);
        }
        let budget = crate::select::apply_budget(&mut findings, &self.config.selection);
        lap(&mut timings, "details", t);

        let t = Instant::now();
        let inputs = input_records(&plan, &self.pool)?;
        lap(&mut timings, "fingerprint", t);

        let mut summary =
            self.summarise(&plan, &units, &scored, &findings, &uv.main, &levels, &kinds);
        summary.volume = volume_summary;
        summary.inputs = inputs;
        summary.budget = budget;
        summary.baseline = meta.map(|m| m.id.clone());
        lap(&mut timings, "total", t0);
        summary.timings_ms = timings;
        Ok(ScanOutput { findings, summary })
    }

    /// Read the flagged (and audited) lines of unit `ui` back and list the findings
    /// they produce, unsorted.
    #[allow(clippy::too_many_arguments)]
    fn details<'a>(
        &self,
        plan: &ScanPlan,
        ui: usize,
        score: &UnitScore,
        measures: &UnitMeasures,
        keys: &[FineKey],
        ctx: &ScoreContext<'a>,
        batch_size: usize,
    ) -> Result<UnitDetails<'a>> {
        let unit = &plan.units[ui];
        let file = &plan.files[unit.file];
        let mut rows: Vec<u32> = score.flags.iter().map(|f| f.row).collect();
        rows.extend(score.audit.iter().map(|a| a.0));
        rows.sort_unstable();
        rows.dedup();
        let cols = [
            Col::DeclarationId,
            Col::LineNo,
            Col::Date,
            Col::Office,
            Col::ImporterId,
            Col::Quantity,
            Col::NetMassKg,
            Col::CustomsValue,
        ];
        let mut detail: Vec<Detail> = Vec::with_capacity(rows.len());
        read_unit(plan, unit, &cols, batch_size, Some(&rows), |b| {
            let n = b.num_rows();
            let err = |col: Col, e| column_error(plan, unit, 0, col, e);
            let text = |col: Col| -> Result<Vec<Option<String>>> {
                b.get(col).map_or(Ok(vec![None; n]), |a| {
                    strings(a.as_ref()).map_err(|e| err(col, e))
                })
            };
            let num = |col: Col| -> Result<Vec<f64>> {
                b.get(col).map_or(Ok(vec![f64::NAN; n]), |a| {
                    f64_values(a.as_ref()).map_err(|e| err(col, e))
                })
            };
            let ids = text(Col::DeclarationId)?;
            let line_no = b.get(Col::LineNo).map_or(Ok(vec![None; n]), |a| {
                i64_values(a.as_ref()).map_err(|e| err(Col::LineNo, e))
            })?;
            let dates = b.get(Col::Date).map_or(Ok(vec![NULL_DATE; n]), |a| {
                date_days(a.as_ref()).map_err(|e| err(Col::Date, e))
            })?;
            let office = text(Col::Office)?;
            let importer = text(Col::ImporterId)?;
            let (q, m, v) = (
                num(Col::Quantity)?,
                num(Col::NetMassKg)?,
                num(Col::CustomsValue)?,
            );
            let mut ids = ids.into_iter();
            let mut office = office.into_iter();
            let mut importer = importer.into_iter();
            for i in 0..n {
                detail.push(Detail {
                    declaration_id: ids.next().flatten(),
                    line_no: line_no[i],
                    date: (dates[i] != NULL_DATE).then_some(dates[i]),
                    office: office.next().flatten(),
                    importer_id: importer.next().flatten(),
                    quantity: finite(q[i]),
                    net_mass_kg: finite(m[i]),
                    customs_value: finite(v[i]),
                });
            }
            Ok(())
        })?;
        if detail.len() != rows.len() {
            return Err(Error::Internal(format!(
                "{}: expected {} flagged rows back, read {}",
                file.path.display(),
                rows.len(),
                detail.len()
            )));
        }
        let mut pending = Vec::with_capacity(score.flags.len() + score.audit.len());
        for &(row, uv) in &score.audit {
            if let Ok(pos) = rows.binary_search(&row) {
                let gid = measures.gid[row as usize];
                pending.push(Pending {
                    score: 0.0,
                    detector_id: crate::select::RANDOM_AUDIT_ID,
                    unit: ui as u32,
                    row,
                    pos: pos as u32,
                    what: What::Audit {
                        key: keys.get(gid as usize).copied(),
                        uv,
                    },
                });
            }
        }
        for flag in &score.flags {
            let Ok(pos) = rows.binary_search(&flag.row) else {
                continue;
            };
            let gid = measures.gid[flag.row as usize];
            let Some(&key) = keys.get(gid as usize) else {
                continue;
            };
            let det = &ctx.detectors[flag.detector as usize];
            let Some(base) = ctx.baselines(det.measure()) else {
                continue;
            };
            let Some(index) = base.main.group_index(gid) else {
                continue;
            };
            let Some(group) = base.main.groups.get(index as usize) else {
                continue;
            };
            let local = flag
                .local
                .and_then(|i| base.local.as_ref()?.groups.get(i as usize));
            pending.push(Pending {
                score: flag.score,
                detector_id: det.kind().id(),
                unit: ui as u32,
                row: flag.row,
                pos: pos as u32,
                what: What::Flag {
                    kind: det.kind(),
                    flag: *flag,
                    key,
                    group,
                    group_id: (det.measure(), index),
                    local,
                },
            });
        }
        Ok(UnitDetails { detail, pending })
    }

    #[allow(clippy::too_many_arguments)]
    fn summarise(
        &self,
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
            config: self.config.recorded_toml(),
            config_hash: fingerprint(self.config.recorded_toml().as_bytes()),
            execution: crate::report::Execution {
                threads: self.threads(),
                batch_size: self.config.scan.batch_size,
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
        let mut groups_at = vec![0u64; levels.len()];
        let mut lines_at: Vec<Option<u64>> = vec![None; levels.len()];
        for g in &uv_base.groups {
            groups_at[g.level] += 1;
        }
        for (gid, r) in uv_base.resolved.iter().enumerate() {
            if let Some(gi) = r {
                let level = uv_base.groups[*gi as usize].level;
                *lines_at[level].get_or_insert(0) += uv_base.fine_counts[gid];
            }
        }
        for (l, level) in levels.iter().enumerate() {
            if groups_at[l] > 0 {
                *s.groups_per_level.entry(level.name()).or_default() += groups_at[l];
            }
            if let Some(n) = lines_at[l] {
                *s.lines_per_level.entry(level.name()).or_default() += n;
            }
        }
        s.findings = findings.len() as u64;
        let mut lines: Vec<(u32, u32)> = findings
            .iter()
            .filter(|f| f.is_line() && f.detector != crate::select::RANDOM_AUDIT)
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
                None if f.detector == crate::select::RANDOM_AUDIT => {}
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
}

fn lap(t: &mut BTreeMap<String, u64>, name: &str, since: Instant) {
    t.insert(name.to_string(), since.elapsed().as_millis() as u64);
}

fn finite(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
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

/// Replace each unit's local group ids by global ones. Global ids are assigned in
/// order of first appearance across units in unit order, so they do not depend on
/// the thread count.
fn merge_groups(units: &mut [UnitMeasures], pool: &rayon::ThreadPool) -> Vec<FineKey> {
    let mut global = KeyIndex::default();
    // There are at least as many keys in all as in the unit with the most.
    global.reserve(units.iter().map(|u| u.keys.len()).max().unwrap_or(0));
    let mut keys = Vec::new();
    let remaps: Vec<Vec<u32>> = units
        .iter()
        .map(|u| {
            let mut remap = Vec::with_capacity(u.keys.len());
            global.intern(&u.keys, &mut keys, &mut remap);
            remap
        })
        .collect();
    pool.install(|| {
        units
            .par_iter_mut()
            .zip(remaps.par_iter())
            .for_each(|(u, remap)| {
                for g in u.gid.iter_mut().filter(|g| **g != NO_GROUP) {
                    *g = remap[*g as usize];
                }
            });
    });
    keys
}

/// One detector firing on one line, before its details are read.
#[derive(Debug, Clone, Copy)]
struct Flag {
    row: u32,
    detector: u8,
    score: f64,
    direction: crate::detect::Direction,
    value: f64,
    /// Index of the local group (in the local baseline) that confirmed a fallback flag.
    local: Option<u32>,
}

#[derive(Debug, Default)]
struct UnitScore {
    flags: Vec<Flag>,
    scored: u64,
    /// Lines not scored, by [`SkipReason`] (index `reason as usize - 1`).
    skipped: [u64; SkipReason::ALL.len()],
    /// First such line of each reason, within the unit.
    first: [Option<u64>; SkipReason::ALL.len()],
    no_spread: Vec<u64>,
    /// Fallback-level flags withdrawn by the local check, per detector.
    local_withdrawn: Vec<u64>,
    /// Lines drawn for the random audit: row and ln unit value (NaN when none).
    audit: Vec<(u32, f64)>,
}

/// The baselines of one measure: the main chain and, for the fallback check, the most
/// specific group with at least `local_min_group_size` lines of each line that resolved
/// at a fallback level.
struct Baselines {
    main: MeasureBaseline,
    local: Option<MeasureBaseline>,
}

impl Baselines {
    /// The baselines of the lines' groups, or, with `stored`, of the history's groups.
    fn build(
        parts: &[(&[u32], &[f64])],
        keys: &[FineKey],
        levels: &[GroupLevel],
        price: &crate::config::PriceConfig,
        stored: Option<&StoredGroups>,
    ) -> Baselines {
        let resolve = |min: usize, wanted: Option<&[bool]>| match stored {
            Some(s) => s.resolve(parts, keys, levels, min, wanted),
            None => build_baseline(parts, keys, levels, min, wanted),
        };
        let main = resolve(price.min_group_size, None);
        let local_min = price.local_min_group_size;
        let local =
            (local_min > 0 && local_min < price.min_group_size && levels.len() > 1).then(|| {
                let wanted: Vec<bool> = (0..keys.len())
                    .map(|g| main.for_group(g as u32).is_some_and(|b| b.level > 0))
                    .collect();
                resolve(local_min, Some(&wanted))
            });
        Baselines { main, local }
    }

    /// The judgement of `x` against its group, with the fallback check applied.
    fn judge(
        &self,
        det: &dyn Detector,
        levels: &[GroupLevel],
        group: &GroupBaseline,
        gid: u32,
        x: f64,
    ) -> Option<(Judgement, Option<u32>, bool)> {
        if !det.accepts_level(&levels[group.level]) {
            return None;
        }
        let verdict = det.judge(x, &group.stats);
        let Judgement::Flag { score, direction } = verdict else {
            return Some((verdict, None, false));
        };
        let Some(local) = self.local.as_ref() else {
            return Some((verdict, None, false));
        };
        let Some(li) = local.resolved.get(gid as usize).copied().flatten() else {
            return Some((verdict, None, false));
        };
        let lg = &local.groups[li as usize];
        if lg.level >= group.level {
            return Some((verdict, None, false));
        }
        // Same spread, centred on the line's own (smaller) group.
        let shift = lg.stats.median - group.stats.median;
        let recentred = OrderStats {
            q1: group.stats.q1 + shift,
            median: lg.stats.median,
            q3: group.stats.q3 + shift,
            ..group.stats
        };
        match det.judge(x, &recentred) {
            Judgement::Flag {
                score: local_score, ..
            } => Some((
                Judgement::Flag {
                    score: score.min(local_score),
                    direction,
                },
                Some(li),
                false,
            )),
            _ => Some((Judgement::Pass, None, true)),
        }
    }
}

/// How many lines ahead the score pass prefetches a line's group.
const PREFETCH_AHEAD: usize = 16;

struct ScoreContext<'a> {
    detectors: &'a [Box<dyn Detector>],
    levels: &'a [GroupLevel],
    uv: &'a Baselines,
    kg: Option<&'a Baselines>,
    /// With `--watch`: per fine group, whether it is in a selected family.
    watched: Option<&'a [bool]>,
}

impl<'a> ScoreContext<'a> {
    fn baselines(&self, m: Measure) -> Option<&'a Baselines> {
        match m {
            Measure::UnitValue => Some(self.uv),
            Measure::KgPerUnit => self.kg,
        }
    }

    fn score_unit(&self, u: &UnitMeasures) -> UnitScore {
        let k_det = self.detectors.len();
        let mut out = UnitScore {
            no_spread: vec![0; k_det],
            local_withdrawn: vec![0; k_det],
            ..Default::default()
        };
        for (row, &gid) in u.gid.iter().enumerate() {
            // The groups of the lines a few rows on: a table of megabytes, read in
            // line order at random.
            if let Some(&ahead) = u.gid.get(row + PREFETCH_AHEAD)
                && let Some(g) = self.uv.main.for_group(ahead)
            {
                prefetch(&g.stats);
            }
            let mut judged = false;
            let mut group_missing = false;
            let outside = gid != NO_GROUP
                && self
                    .watched
                    .is_some_and(|w| !w.get(gid as usize).copied().unwrap_or(false));
            if outside {
                let reason =
                    SkipReason::from_u8(u.reason[row]).unwrap_or(SkipReason::NotInWatchedFamily);
                let i = reason as usize - 1;
                out.skipped[i] += 1;
                out.first[i].get_or_insert(row as u64);
                continue;
            }
            if gid != NO_GROUP {
                // Each measure's value and group, looked up once per line.
                let uv = (u.uv[row], self.uv.main.for_group(gid));
                let kg = (
                    u.kgpu.get(row).copied().unwrap_or(f64::NAN),
                    self.kg.and_then(|b| b.main.for_group(gid)),
                );
                for (k, det) in self.detectors.iter().enumerate() {
                    let (base, (x, group)) = match det.measure() {
                        Measure::UnitValue => (self.uv, uv),
                        Measure::KgPerUnit => match self.kg {
                            Some(b) => (b, kg),
                            None => continue,
                        },
                    };
                    if x.is_nan() {
                        continue;
                    }
                    let Some(group) = group else {
                        group_missing = true;
                        continue;
                    };
                    let Some((verdict, local, withdrawn)) =
                        base.judge(det.as_ref(), self.levels, group, gid, x)
                    else {
                        continue;
                    };
                    judged = true;
                    out.local_withdrawn[k] += u64::from(withdrawn);
                    match verdict {
                        Judgement::Flag { score, direction } => out.flags.push(Flag {
                            row: row as u32,
                            detector: k as u8,
                            score,
                            direction,
                            value: x,
                            local,
                        }),
                        Judgement::NoSpread => out.no_spread[k] += 1,
                        Judgement::Pass => {}
                    }
                }
            }
            if judged {
                out.scored += 1;
                continue;
            }
            // Not scored: the data reason first, then why no detector could judge it.
            let reason = SkipReason::from_u8(u.reason[row]).unwrap_or(if group_missing {
                SkipReason::GroupTooSmall
            } else {
                SkipReason::NoApplicableDetector
            });
            let i = reason as usize - 1;
            out.skipped[i] += 1;
            out.first[i].get_or_insert(row as u64);
        }
        out
    }
}

/// The flagged lines of one unit read back, and the findings they produce (unsorted).
#[derive(Debug, Default)]
struct UnitDetails<'a> {
    /// Per flagged or audited row, ascending.
    detail: Vec<Detail>,
    pending: Vec<Pending<'a>>,
}

/// A finding to build: its leading sort keys and where its parts are.
#[derive(Debug, Clone, Copy)]
struct Pending<'a> {
    score: f64,
    detector_id: &'static str,
    unit: u32,
    row: u32,
    /// Index into the unit's [`UnitDetails::detail`].
    pos: u32,
    what: What<'a>,
}

#[derive(Debug, Clone, Copy)]
enum What<'a> {
    Flag {
        kind: DetectorKind,
        flag: Flag,
        key: FineKey,
        group: &'a GroupBaseline,
        /// The group's measure and index in its [`MeasureBaseline`] (its shared texts).
        group_id: (Measure, u32),
        local: Option<&'a GroupBaseline>,
    },
    Audit {
        key: Option<FineKey>,
        uv: f64,
    },
}

impl What<'_> {
    fn key(&self) -> Option<FineKey> {
        match *self {
            What::Flag { key, .. } => Some(key),
            What::Audit { key, .. } => key,
        }
    }
}

/// Sorts and builds the line findings of a scan.
struct FindingBuilder<'a> {
    per_unit: &'a [UnitDetails<'a>],
    levels: &'a [GroupLevel],
    watch: &'a WatchIndex,
    selection: &'a crate::config::SelectionConfig,
    texts: &'a SharedTexts,
}

/// The texts a fine key gives every finding of its lines.
#[derive(Clone, Default)]
struct KeyTexts {
    hs_code: String,
    hs6: String,
    origin: Option<String>,
    unit: Option<String>,
    watch_family: Option<String>,
}

impl KeyTexts {
    fn new(k: FineKey, watch: &WatchIndex) -> KeyTexts {
        KeyTexts {
            hs_code: k.hs.to_text(),
            hs6: k.hs.prefix(6).to_text(),
            origin: (!k.origin.is_none()).then(|| k.origin.to_text()),
            unit: (!k.unit.is_none()).then(|| k.unit.to_text()),
            watch_family: watch.families_of(k.hs),
        }
    }
}

/// The texts a comparison group gives every finding judged against it.
#[derive(Clone)]
struct GroupTexts {
    key: String,
    level: String,
    /// The explanation's account of the group: `the median 1.234 of 56 lines in
    /// hs6=071080|origin=CN (level 1 of 3: hs6+origin)`.
    account: String,
}

impl GroupTexts {
    fn new(g: &GroupBaseline, levels: &[GroupLevel]) -> GroupTexts {
        let level = &levels[g.level];
        let key = level.key_text(g.key);
        let name = level.name();
        let account = format!(
            "the median {} of {} lines in {} (level {} of {}: {})",
            Sig(g.stats.median.exp()),
            g.stats.count,
            key,
            g.level + 1,
            levels.len(),
            name,
        );
        GroupTexts {
            key,
            level: name,
            account,
        }
    }
}

/// Texts shared by many findings (tens of thousands of groups for hundreds of
/// thousands of findings), each written once, in parallel, before the findings.
#[derive(Default)]
struct SharedTexts {
    keys: FxHashMap<FineKey, KeyTexts>,
    groups: FxHashMap<(Measure, u32), GroupTexts>,
}

impl SharedTexts {
    fn build(pending: &[Pending<'_>], levels: &[GroupLevel], watch: &WatchIndex) -> SharedTexts {
        let mut keys: Vec<FineKey> = Vec::new();
        let mut groups: Vec<((Measure, u32), &GroupBaseline)> = Vec::new();
        for p in pending {
            if let What::Flag {
                key,
                group,
                group_id,
                ..
            } = p.what
            {
                keys.push(key);
                groups.push((group_id, group));
            }
        }
        keys.par_sort_unstable();
        keys.dedup();
        groups.par_sort_unstable_by_key(|g| g.0);
        groups.dedup_by_key(|g| g.0);
        let keys = keys
            .into_par_iter()
            .map(|k| (k, KeyTexts::new(k, watch)))
            .collect();
        let groups = groups
            .into_par_iter()
            .map(|(id, g)| (id, GroupTexts::new(g, levels)))
            .collect();
        SharedTexts { keys, groups }
    }
}

impl FindingBuilder<'_> {
    fn detail(&self, p: &Pending<'_>) -> &Detail {
        &self.per_unit[p.unit as usize].detail[p.pos as usize]
    }

    /// [`Finding::output_order`] of the findings `a` and `b` will become (line findings:
    /// no series key, no period), without building them.
    fn order(&self, a: &Pending<'_>, b: &Pending<'_>) -> std::cmp::Ordering {
        let hs6 = |p: &Pending<'_>| {
            p.what
                .key()
                .map(|k| k.hs.prefix(6).to_text())
                .unwrap_or_default()
        };
        let origin = |p: &Pending<'_>| {
            p.what
                .key()
                .and_then(|k| (!k.origin.is_none()).then(|| k.origin.to_text()))
        };
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.detector_id.cmp(b.detector_id))
            .then_with(|| {
                let (da, db) = (self.detail(a), self.detail(b));
                da.declaration_id
                    .cmp(&db.declaration_id)
                    .then_with(|| da.line_no.cmp(&db.line_no))
                    .then_with(|| hs6(a).cmp(&hs6(b)))
                    .then_with(|| da.importer_id.cmp(&db.importer_id))
                    .then_with(|| origin(a).cmp(&origin(b)))
                    .then_with(|| da.office.cmp(&db.office))
            })
            .then_with(|| (a.unit, a.row).cmp(&(b.unit, b.row)))
    }

    fn finding(&self, p: &Pending<'_>) -> Finding {
        let d = self.detail(p);
        let locator = (p.unit, p.row);
        match p.what {
            What::Flag {
                kind,
                flag,
                key,
                group,
                group_id,
                local,
            } => {
                // Every flagged key and group has its texts (built from the same list);
                // written here only if that ever stops being so.
                let kt = match self.texts.keys.get(&key) {
                    Some(t) => Cow::Borrowed(t),
                    None => Cow::Owned(KeyTexts::new(key, self.watch)),
                };
                let gt = match self.texts.groups.get(&group_id) {
                    Some(t) => Cow::Borrowed(t),
                    None => Cow::Owned(GroupTexts::new(group, self.levels)),
                };
                make_finding(
                    kind,
                    &flag,
                    d,
                    key,
                    (group, local),
                    (&kt, &gt),
                    self.levels,
                    locator,
                )
            }
            What::Audit { key, uv } => {
                audit_finding(d, key, uv, self.selection, self.watch, locator)
            }
        }
    }
}

/// Per-line fields read back for flagged lines.
#[derive(Debug, Clone)]
struct Detail {
    declaration_id: Option<String>,
    line_no: Option<i64>,
    date: Option<i32>,
    office: Option<String>,
    importer_id: Option<String>,
    quantity: Option<f64>,
    net_mass_kg: Option<f64>,
    customs_value: Option<f64>,
}

/// A measure name with spaces for underscores (`value per unit`), as explanations
/// print it.
fn spaced(measure: &str) -> std::borrow::Cow<'_, str> {
    match measure {
        "value_per_unit" => "value per unit".into(),
        "value_per_kg" => "value per kg".into(),
        "kg_per_unit" => "kg per unit".into(),
        other => other.replace('_', " ").into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn make_finding(
    kind: DetectorKind,
    flag: &Flag,
    d: &Detail,
    key: FineKey,
    (g, local): (&GroupBaseline, Option<&GroupBaseline>),
    (kt, gt): (&KeyTexts, &GroupTexts),
    levels: &[GroupLevel],
    locator: (u32, u32),
) -> Finding {
    let st = &g.stats;
    let price = kind != DetectorKind::MassPerUnit;
    let measure = if price {
        key.basis.measure_name()
    } else {
        "kg_per_unit"
    };
    let observed = flag.value.exp();
    let median = st.median.exp();
    let value_gap = if price {
        let denominator = match key.basis {
            Basis::PerUnit => d.quantity,
            Basis::PerKg => d.net_mass_kg.or(d.quantity),
        };
        match (d.customs_value, denominator) {
            (Some(v), Some(q)) => Some(v - median * q),
            _ => None,
        }
    } else {
        None
    };
    let ratio = if observed >= median {
        observed / median
    } else {
        median / observed
    };
    let side = if observed >= median { "above" } else { "below" };
    // One buffer, written in place: this runs once per finding.
    let mut explanation = String::with_capacity(160);
    let _ = write!(
        explanation,
        "{} {} is {:.1}x {} {}",
        spaced(measure),
        Sig(observed),
        ratio,
        side,
        gt.account,
    );
    if let Some(l) = local {
        let _ = write!(
            explanation,
            ", and far from the median {} of its own {} lines in {}",
            Sig(l.stats.median.exp()),
            l.stats.count,
            levels[l.level].key_text(key)
        );
    }
    let _ = write!(explanation, "; {} score {:.2}", kind.name(), flag.score);
    Finding {
        detector: kind.name(),
        detector_id: kind.id(),
        declaration_id: d.declaration_id.clone(),
        line_no: d.line_no,
        date: d.date,
        office: d.office.clone(),
        importer_id: d.importer_id.clone(),
        origin: kt.origin.clone(),
        hs_code: kt.hs_code.clone(),
        hs6: kt.hs6.clone(),
        unit: kt.unit.clone(),
        quantity: d.quantity,
        net_mass_kg: d.net_mass_kg,
        customs_value: d.customs_value,
        measure,
        observed,
        baseline_median: median,
        baseline_mad: Some(st.mad),
        baseline_q1: Some(st.q1.exp()),
        baseline_q3: Some(st.q3.exp()),
        group_level: gt.level.clone(),
        group_key: gt.key.clone(),
        group_size: st.count,
        score: flag.score,
        direction: flag.direction.name(),
        value_gap,
        watch_family: kt.watch_family.clone(),
        series_key: None,
        period_start: None,
        period: None,
        history_len: None,
        explanation,
        locator,
    }
}

/// Every planned input file with its size, rows and content fingerprint (read in
/// parallel; the files are in the page cache after a scan).
pub(crate) fn input_records(plan: &ScanPlan, pool: &rayon::ThreadPool) -> Result<Vec<InputRecord>> {
    pool.install(|| {
        plan.files
            .par_iter()
            .map(|f| {
                Ok(InputRecord {
                    path: f.path.display().to_string(),
                    size: f.size,
                    fingerprint: file_fingerprint(&f.path).map_err(|e| Error::io(&f.path, e))?,
                    rows: f.rows(),
                    row_groups: f.row_groups() as u64,
                })
            })
            .collect()
    })
}

/// Refuse inputs the baseline was fitted from: their lines would count twice.
fn refuse_fitted_inputs(
    plan: &ScanPlan,
    meta: &crate::store::BaselineMeta,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    let fitted: std::collections::HashSet<&str> =
        meta.inputs.iter().map(|r| r.fingerprint.as_str()).collect();
    let twice = pool.install(|| {
        plan.files
            .par_iter()
            .find_first(|f| file_fingerprint(&f.path).is_ok_and(|fp| fitted.contains(fp.as_str())))
    });
    match twice {
        Some(f) => Err(Error::AlreadyInBaseline {
            path: f.path.clone(),
            baseline: meta.id.clone(),
        }),
        None => Ok(()),
    }
}

/// Whether a volume finding's period reaches `first_day` or later.
fn touches(f: &Finding, first_day: i32) -> bool {
    use crate::volume::{PeriodKind, period_id, period_start};
    let Some(start) = f.period_start else {
        return true;
    };
    let kind = match f.period {
        Some("month") => PeriodKind::Month,
        Some("week") => PeriodKind::Week,
        _ => return start >= first_day,
    };
    start >= period_start(kind, period_id(kind, first_day))
}

/// Draw the random audit of one unit: each line without a finding is taken with
/// probability `rate`, decided by a hash of (seed, unit, row), so the sample depends on
/// the seed and the input only.
fn draw_audit(
    sc: &UnitScore,
    u: &UnitMeasures,
    ui: usize,
    rate: f64,
    seed: u64,
) -> Vec<(u32, f64)> {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let hasher = BuildHasherDefault::<crate::kernels::hash::FxHasher>::default();
    let cut = (rate.clamp(0.0, 1.0) * u64::MAX as f64) as u64;
    let mut flagged = sc.flags.iter().map(|f| f.row).peekable();
    let mut out = Vec::new();
    for row in 0..u.gid.len() as u32 {
        while flagged.next_if(|&r| r < row).is_some() {}
        if flagged.peek() == Some(&row) {
            continue;
        }
        let h = hasher
            .hash_one((seed, ui as u64, row))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        if h < cut {
            out.push((row, u.uv.get(row as usize).copied().unwrap_or(f64::NAN)));
        }
    }
    out
}

/// A line drawn by the random audit.
fn audit_finding(
    d: &Detail,
    key: Option<FineKey>,
    uv: f64,
    sel: &crate::config::SelectionConfig,
    watch: &WatchIndex,
    locator: (u32, u32),
) -> Finding {
    // No key (a line without a usable group key): empty codes, no family.
    let kt = key.map(|k| KeyTexts::new(k, watch)).unwrap_or_default();
    Finding {
        detector: crate::select::RANDOM_AUDIT,
        detector_id: crate::select::RANDOM_AUDIT_ID,
        declaration_id: d.declaration_id.clone(),
        line_no: d.line_no,
        date: d.date,
        office: d.office.clone(),
        importer_id: d.importer_id.clone(),
        origin: kt.origin,
        hs_code: kt.hs_code,
        hs6: kt.hs6,
        unit: kt.unit,
        quantity: d.quantity,
        net_mass_kg: d.net_mass_kg,
        customs_value: d.customs_value,
        measure: key.map_or("none", |k| k.basis.measure_name()),
        observed: uv.exp(),
        baseline_median: f64::NAN,
        baseline_mad: None,
        baseline_q1: None,
        baseline_q3: None,
        group_level: String::new(),
        group_key: String::new(),
        group_size: 0,
        score: 0.0,
        direction: "none",
        value_gap: None,
        watch_family: kt.watch_family,
        series_key: None,
        period_start: None,
        period: None,
        history_len: None,
        explanation: format!(
            "drawn at random (rate {}, seed {}) among lines without a finding, so that \
             hit rates can be measured without selection bias",
            sel.random_audit, sel.seed
        ),
        locator,
    }
}
