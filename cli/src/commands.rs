//! One function per subcommand: build the engine config, run, report.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use tradescan::detect::DetectorKind;
use tradescan::kernels::dates::format_ymd;
use tradescan::report::{Finding, Format};
use tradescan::{Config, Engine, OutputOptions, ScanOutput};
use tradescan_datasets::generate::{GeneratorConfig, generate};

use crate::args::{
    Cli, Command, DemoArgs, EvalArgs, FitArgs, GenerateArgs, InspectArgs, ScanArgs, ScanOptions,
    WatchlistsArgs,
};
use crate::progress::Bar;

/// Run one command; `Ok` carries the exit code.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let mut config = match &cli.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if let Some(t) = cli.threads {
        config.scan.threads = t;
    }
    match cli.command {
        Command::Scan(args) => scan(args, config, cli.quiet),
        Command::Fit(args) => fit(args, config),
        Command::Demo(args) => demo(args, config, cli.quiet),
        Command::Generate(args) => generate_cmd(args),
        Command::Inspect(args) => inspect(args, &config),
        Command::Eval(args) => eval(args),
        Command::Watchlists(args) => watchlists(&args, &config),
        Command::Detectors => {
            for d in DetectorKind::ALL {
                println!("{:<4} {:<14} {}", d.id(), d.name(), d.summary());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn apply(config: &mut Config, opts: ScanOptions) -> Result<()> {
    if let Some(d) = opts.detectors {
        config.select_detectors(&d)?;
    }
    if opts.from.is_some() {
        config.scan.from = opts.from;
    }
    if opts.to.is_some() {
        config.scan.to = opts.to;
    }
    if let Some(b) = opts.batch_size {
        config.scan.batch_size = b;
    }
    if let Some(w) = opts.watch {
        config.watch.only = w;
    }
    Ok(())
}

fn watchlists(args: &WatchlistsArgs, config: &Config) -> Result<ExitCode> {
    let index = tradescan::watch::WatchIndex::with_lists(&config.watch.lists)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(index.lists())?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<22} {:>8}  {:<10} source",
        "family", "prefixes", "edition"
    );
    for list in index.lists() {
        for (family, n) in &list.families {
            let edition: String = list.edition.chars().take(10).collect();
            println!("{family:<22} {n:>8}  {edition:<10} {}", list.source);
        }
    }
    println!(
        "\nA line in a watched family is a reason for a closer look, never proof that the \
         goods are controlled."
    );
    Ok(ExitCode::SUCCESS)
}

fn scan(args: ScanArgs, mut config: Config, quiet: bool) -> Result<ExitCode> {
    apply(&mut config, args.scan)?;
    if args.keep_going {
        config.scan.keep_going = true;
    }
    if let Some(n) = args.budget {
        config.selection.budget = n;
    }
    if args.budget_per.is_some() {
        config.selection.budget_per = Some(tradescan::config::BudgetPer::Office);
    }
    if let Some(rate) = args.random_audit {
        config.selection.random_audit = rate;
        config.selection.seed = args.seed;
    }
    config.validate()?;
    let format = Format::parse(&args.format)?;
    let engine = Engine::new(config)?;
    let baseline = args
        .baseline
        .as_deref()
        .map(|dir| engine.read_baseline(dir))
        .transpose()?;
    let out = engine.scan_with(&args.inputs, baseline.as_ref(), &Bar::new(quiet))?;
    engine.write_output(
        &out,
        &OutputOptions {
            dir: args.out.clone(),
            format,
        },
    )?;
    eprintln!(
        "{}",
        one_line_summary(&out, &args.out.join(format.file_name()))
    );
    let code = exit_code(&out, args.fail_on_findings);
    // The outputs are written and the process ends next: freeing hundreds of thousands
    // of findings one string at a time would only delay the exit (~50 ms at 20M lines).
    std::mem::forget(out);
    Ok(code)
}

fn fit(args: FitArgs, config: Config) -> Result<ExitCode> {
    let from = args
        .from
        .as_deref()
        .map(|s| {
            tradescan::kernels::dates::parse_ymd(s)
                .with_context(|| format!("--from: `{s}` is not a date (YYYY-MM-DD)"))
        })
        .transpose()?;
    let engine = Engine::new(config)?;
    let t = std::time::Instant::now();
    let (dir, previous) = match (&args.out, &args.update) {
        (_, Some(dir)) => (dir.clone(), Some(tradescan::store::Baseline::read(dir)?)),
        (Some(dir), None) => (dir.clone(), None),
        (None, None) => bail!("give --out DIR or --update DIR"),
    };
    let mut baseline = engine.fit(&args.inputs, previous, from)?;
    baseline.write(&dir)?;
    let m = &baseline.meta;
    eprintln!(
        "tradescan: baseline {} -> {}: {} lines, {} volume cells, {} input files ({} ms)",
        m.id,
        dir.display(),
        m.lines,
        m.cells,
        m.inputs.len(),
        t.elapsed().as_millis()
    );
    Ok(ExitCode::SUCCESS)
}

/// 3 when inputs were left out (`--keep-going`), else 1 when the findings reach the
/// `--fail-on-findings` threshold, else 0.
fn exit_code(out: &ScanOutput, fail_on: Option<u64>) -> ExitCode {
    let s = &out.summary;
    if !s.inputs_skipped.is_empty() {
        for f in &s.inputs_skipped {
            eprintln!("tradescan: skipped {}: {}", f.path, f.error);
        }
        return ExitCode::from(3);
    }
    if fail_on.is_some_and(|n| s.findings >= n) {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn one_line_summary(out: &ScanOutput, path: &Path) -> String {
    let s = &out.summary;
    format!(
        "tradescan: {} rows read, {} scored, {} findings on {} lines -> {} ({} ms)",
        s.rows_read,
        s.rows_scored,
        s.findings,
        s.lines_flagged,
        path.display(),
        s.timings_ms.get("total").copied().unwrap_or(0)
    )
}

fn demo(args: DemoArgs, config: Config, quiet: bool) -> Result<ExitCode> {
    let tmp;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir().context("creating a temporary folder")?;
            tmp.path().to_path_buf()
        }
    };
    let data = dir.join("data");
    let gen_cfg = GeneratorConfig {
        rows: args.rows,
        seed: args.seed,
        ..GeneratorConfig::default()
    };
    eprintln!(
        "tradescan demo: generating {} lines (seed {}) into {}",
        args.rows,
        args.seed,
        data.display()
    );
    let report = generate(&gen_cfg, &data).context("generating demo data")?;
    let engine = Engine::new(config)?;
    let out = engine.scan(std::slice::from_ref(&data), &Bar::new(quiet))?;
    let out_dir = dir.join("out");
    tradescan::write_scan_output(
        &out,
        &OutputOptions {
            dir: out_dir.clone(),
            format: Format::Parquet,
        },
    )?;

    let s = &out.summary;
    println!(
        "tradescan demo: {} files, {} rows read, {} scored in {} ms on {} threads",
        s.files,
        s.rows_read,
        s.rows_scored,
        s.timings_ms.get("total").copied().unwrap_or(0),
        engine.threads()
    );
    println!(
        "planted anomalies: {}",
        join_counts(report.line_labels.iter())
    );
    println!("not scored: {}", join_counts(s.rows_skipped.iter()));
    println!(
        "findings: {} on {} lines; by detector: {}; by watch family: {}",
        s.findings,
        s.lines_flagged,
        join_counts(s.findings_by_detector.iter()),
        join_counts(s.findings_by_watch_family.iter())
    );
    println!();
    let lines: Vec<&Finding> = out.findings.iter().filter(|f| f.is_line()).collect();
    println!("top line findings:");
    print_table(&lines[..args.top.min(lines.len())]);
    let series: Vec<&Finding> = out.findings.iter().filter(|f| !f.is_line()).collect();
    if !series.is_empty() {
        println!("\ntop volume findings:");
        print_series_table(&series[..args.top.min(series.len())]);
    }
    if args.dir.is_some() {
        println!("\noutputs: {}", out_dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn join_counts<'a>(it: impl Iterator<Item = (&'a String, &'a u64)>) -> String {
    let v: Vec<String> = it.map(|(k, v)| format!("{k} {v}")).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn print_series_table(findings: &[&Finding]) {
    println!(
        "{:>3} {:>6} {:<19} {:<12} {:<6} {:<24} {:<10} {:<16}",
        "#", "score", "detector", "series", "hs6", "key", "period", "watch family"
    );
    for (i, f) in findings.iter().enumerate() {
        let key = f
            .importer_id
            .as_deref()
            .or(f.origin.as_deref())
            .or(f.office.as_deref())
            .unwrap_or("-");
        println!(
            "{:>3} {:>6.2} {:<19} {:<12} {:<6} {:<24} {:<10} {:<16}",
            i + 1,
            f.score,
            f.detector,
            f.series_key.unwrap_or("-"),
            f.hs6,
            key,
            f.period_start.map(format_ymd).unwrap_or_default(),
            f.watch_family
                .as_deref()
                .map(|w| format!("in watched family {w}"))
                .unwrap_or_default(),
        );
        println!("      {}", f.explanation);
    }
}

fn print_table(findings: &[&Finding]) {
    println!(
        "{:>3} {:>6} {:<13} {:<18} {:<10} {:<3} {:<4} {:>4} {:<16}",
        "#",
        "score",
        "detector",
        "declaration/line",
        "hs_code",
        "org",
        "unit",
        "dir",
        "watch family"
    );
    for (i, f) in findings.iter().enumerate() {
        let decl = format!(
            "{}/{}",
            f.declaration_id.as_deref().unwrap_or("?"),
            f.line_no
                .map(|l| l.to_string())
                .unwrap_or_else(|| "?".into())
        );
        println!(
            "{:>3} {:>6.2} {:<13} {:<18} {:<10} {:<3} {:<4} {:>4} {:<16}",
            i + 1,
            f.score,
            f.detector,
            decl,
            f.hs_code,
            f.origin.as_deref().unwrap_or("-"),
            f.unit.as_deref().unwrap_or("-"),
            f.direction,
            f.watch_family
                .as_deref()
                .map(|w| format!("in watched family {w}"))
                .unwrap_or_default(),
        );
        println!("      {}", f.explanation);
    }
}

fn generate_cmd(args: GenerateArgs) -> Result<ExitCode> {
    let (year, month) = args
        .start
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)))
        .filter(|(_, m)| (1..=12).contains(m))
        .with_context(|| format!("--start `{}` is not YYYY-MM", args.start))?;
    let cfg = GeneratorConfig {
        rows: args.rows,
        seed: args.seed,
        start_year: year,
        start_month: month,
        months: args.months,
        row_group_rows: args.row_group_rows,
        profile: args.profile.parse()?,
    };
    let report = generate(&cfg, &args.out)?;
    println!(
        "wrote {} rows in {} files to {}; planted: {}; series: {}",
        report.rows,
        report.files.len(),
        args.out.display(),
        join_counts(report.line_labels.iter()),
        join_counts(report.series_labels.iter())
    );
    if !report.noise.is_empty() {
        println!(
            "unlabelled noise ({} profile): {}",
            cfg.profile,
            join_counts(report.noise.iter())
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn inspect(args: InspectArgs, config: &Config) -> Result<ExitCode> {
    let reports = tradescan::inspect::inspect(&args.inputs, config)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for r in &reports {
            println!(
                "{}  {} bytes, {} row groups, {} rows, dates {} .. {}",
                r.path,
                r.bytes,
                r.row_groups,
                r.rows,
                r.date_min.as_deref().unwrap_or("?"),
                r.date_max.as_deref().unwrap_or("?")
            );
            for c in &r.columns {
                let found =
                    c.found
                        .as_deref()
                        .unwrap_or(if c.required { "MISSING" } else { "absent" });
                println!("    {:<15} <- {:<20} {}", c.canonical, c.column, found);
            }
            if let Some(p) = &r.problem {
                println!("    PROBLEM: {p}");
            }
        }
        let rows: u64 = reports.iter().map(|r| r.rows).sum();
        println!("{} files, {} rows", reports.len(), rows);
    }
    let bad: Vec<&str> = reports
        .iter()
        .filter_map(|r| r.problem.as_deref())
        .collect();
    if let Some(first) = bad.first() {
        bail!(
            "{} of {} files cannot be scanned; first: {first}",
            bad.len(),
            reports.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn eval(args: EvalArgs) -> Result<ExitCode> {
    let report = tradescan::eval::evaluate_paths(&tradescan::eval::EvalOptions {
        findings: args.findings,
        labels: args.labels,
        lines: args.lines,
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        tradescan::eval::write_text(&report, &mut std::io::stdout().lock())
            .context("writing to stdout")?;
    }
    Ok(ExitCode::SUCCESS)
}
