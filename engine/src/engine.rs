//! The engine: a validated configuration, its resolved settings and its own thread
//! pool; a scan calls the stages of [`crate::run`] in order.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::report::{OutputOptions, ScanOutput};
use crate::run::{
    self, Progress, Timings, baseline::build_baselines, details::details, fingerprint, fit,
    measure::MeasureOptions, merge::merge_groups, score::ScoreContext, summary::RunInfo,
};
use crate::scan::{ScanPlan, discover, plan};
use crate::series::cells::CellSymbols;
use crate::series::{period_id, period_start};
use crate::settings::Settings;
use crate::store::{Baseline, BaselineMeta, BaselineStats};
use crate::watch::WatchIndex;

/// The engine: a validated configuration, its settings and its own thread pool.
pub struct Engine {
    config: Config,
    settings: Settings,
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
    /// Validate the configuration, resolve its settings and start a pool of
    /// `config.scan.threads` workers (0: one per core).
    pub fn new(config: Config) -> Result<Engine> {
        config.validate()?;
        let watch = WatchIndex::with_lists(&config.watch.lists)?;
        watch.mask_of_names(&config.watch.only, "watch.only (--watch)")?;
        let settings = Settings::resolve(&config, &watch)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.scan.threads)
            .thread_name(|i| format!("tradescan-{i}"))
            .build()
            .map_err(|e| Error::Internal(format!("cannot start thread pool: {e}")))?;
        Ok(Engine {
            config,
            settings,
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

    /// The resolved settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Worker threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Discover the inputs' files and plan the units of work.
    pub fn plan(&self, inputs: &[PathBuf]) -> Result<ScanPlan> {
        let files = discover(inputs)?;
        let s = &self.settings;
        plan(&files, &s.mapping, s.window, &self.pool, s.keep_going)
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
        baseline: Option<&BaselineStats>,
        progress: &dyn Progress,
    ) -> Result<ScanOutput> {
        let meta = match baseline {
            Some(b) => {
                let meta = b.meta.as_ref().ok_or_else(|| {
                    Error::Internal("baseline statistics without their baseline.json".into())
                })?;
                self.check_baseline(meta)?;
                Some(meta)
            }
            None => None,
        };
        let s = &self.settings;
        let pool = &self.pool;
        let t0 = Instant::now();
        let mut timings = Timings::default();
        if let Some(b) = baseline {
            timings.set("baseline_read", b.read_ms);
        }
        let mut plan = self.plan(inputs)?;
        if let Some(meta) = meta {
            fingerprint::refuse_fitted_inputs(&plan, meta, pool)?;
        }
        timings.lap("plan", t0);

        let t = Instant::now();
        let opts = MeasureOptions {
            denominator: s.price.denominator,
            window: s.window,
            kg_per_unit: s.price.needs_kg_per_unit(),
            batch_size: s.batch_size,
            volume: s.volume.as_ref().map(|v| v.cell_options(s.window)),
            price: !s.price.detectors.is_empty() || s.selection.random_audit > 0.0,
            keep_dates: false,
        };
        let syms = CellSymbols::default();
        let mut units =
            run::measure::measure(&mut plan, &opts, &syms, s.keep_going, pool, progress)?;
        timings.lap("measure", t);

        let volume = s.volume.as_ref().map(|v| {
            let stored = baseline.map(|b| &b.volume);
            run::volume::volume(&mut units, syms, stored, v, &self.watch, pool, &mut timings)
        });

        let t = Instant::now();
        let keys = merge_groups(&mut units, pool);
        timings.lap("merge", t);

        let t = Instant::now();
        let (uv, kg) = build_baselines(&units, &keys, &s.price, baseline, pool);
        timings.lap("baseline", t);

        let t = Instant::now();
        let restrict = s.price.restrict;
        let watched: Option<Vec<bool>> = (restrict != 0).then(|| {
            keys.iter()
                .map(|k| self.watch.mask_of(k.hs) & restrict != 0)
                .collect()
        });
        let ctx = ScoreContext {
            detectors: &s.price.detectors,
            levels: &s.price.levels,
            uv: &uv,
            kg: kg.as_ref(),
            watched: watched.as_deref(),
        };
        let scored = run::score::score(&mut units, &ctx, &s.selection, pool);
        timings.lap("score", t);

        let t = Instant::now();
        let (volume_findings, volume_summary) = match volume {
            Some(v) => (v.findings, Some(v.summary)),
            None => (Vec::new(), None),
        };
        let fold = s
            .volume
            .as_ref()
            .filter(|v| v.fold_events)
            .map(|v| v.series.period);
        let details = details(
            &plan,
            &units,
            &scored,
            &keys,
            &ctx,
            (volume_findings, fold),
            (&self.watch, &s.selection, s.batch_size),
            pool,
        )?;
        timings.lap("details", t);

        let t = Instant::now();
        let inputs = fingerprint::input_records(&plan, pool)?;
        timings.lap("fingerprint", t);

        let recorded = self.config.recorded_toml();
        let info = RunInfo {
            config_toml: &recorded,
            threads: self.threads(),
            batch_size: s.batch_size,
        };
        let mut summary = run::summary::summarise(
            &info,
            &plan,
            &units,
            &scored,
            &details.findings,
            &uv.main,
            &s.price.levels,
            &s.price.kinds,
        );
        summary.volume = volume_summary.map(|mut v| {
            v.folded_into_events = details.folded;
            v
        });
        summary.inputs = inputs;
        summary.budget = details.budget;
        summary.baseline = meta.map(|m| m.id.clone());
        timings.lap("total", t0);
        summary.timings_ms = timings.into_map();
        Ok(ScanOutput {
            findings: details.findings,
            summary,
        })
    }

    /// Build a baseline from `inputs`, on top of `previous` when updating, keeping the
    /// lines from `from` on (rounded down to the start of its period).
    pub fn fit(
        &self,
        inputs: &[PathBuf],
        previous: Option<Baseline>,
        from: Option<i32>,
    ) -> Result<Baseline> {
        if let Some(p) = &previous {
            self.check_baseline(&p.meta)?;
        }
        let period = self.settings.fit.series.period;
        let from = from.map(|d| period_start(period, period_id(period, d)));
        let plan = self.plan(inputs)?;
        fit::fit(&plan, previous, from, &self.settings.fit, &self.pool)
    }

    /// Read what scoring needs of a baseline folder, on this engine's threads.
    pub fn read_baseline(&self, dir: &Path) -> Result<BaselineStats> {
        self.pool.install(|| BaselineStats::read(dir))
    }

    /// Write a scan's outputs (see [`crate::write_scan_output`]), encoding the findings
    /// on the engine's workers.
    pub fn write_output(&self, out: &ScanOutput, opts: &OutputOptions) -> Result<()> {
        crate::report::write_scan_output_in(out, opts, Some(&self.pool))
    }

    /// Refuse a baseline fitted with other settings (its values would not compare).
    fn check_baseline(&self, meta: &BaselineMeta) -> Result<()> {
        let mine = &self.settings.fit.recorded;
        if &meta.settings != mine {
            return Err(Error::config(format!(
                "the baseline {} was fitted with other settings ({}) than this run's ({}); \
                 fit it again",
                meta.id,
                meta.settings.trim().replace('\n', ", "),
                mine.trim().replace('\n', ", ")
            )));
        }
        Ok(())
    }
}
