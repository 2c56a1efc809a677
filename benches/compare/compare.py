"""Side-by-side comparison of tradescan, DuckDB and Polars on one job.

    robust z of ln(customs_value / quantity) per (HS6, origin), flag |z| > 3.5

Entry point: run.sh (venv, release build), which calls this script. Steps:

1. generate the data with `tradescan generate` when absent;
2. read every file once, of both sizes (warm page cache);
3. time the decode floor with `tradescan-e2e --floor-only` (the parquet crate decoding
   only the columns the job needs), on 1 and T threads;
4. `--repeat` rounds, each running, in its own child process: tradescan on T threads,
   DuckDB on T threads, Polars on T threads, tradescan on 1 thread and, with `--rows2`,
   tradescan on T threads on `--rows2` lines (round-robin, so noise from other work on
   the machine spreads over all engines and both sizes);
5. check that the flagged sets (declaration_id, line_no) are identical;
6. print a Markdown report: timings, peak RSS, ratios, targets with pass/fail.

Wall time is measured around each child process (start-up and imports included).
Peak RSS is the child's maximum resident set size as reported by `/usr/bin/time -f %M`
(the grandchild of this script, so this script's own memory never counts in it).

Exit status: 0 when the flagged sets are identical (targets may still fail: they are
reported, not enforced), 1 when they differ, 2 on an error.

This file is also the DuckDB child (`compare.py --child-duckdb DATA OUT THREADS`), so
that child imports nothing but duckdb. Only the standard library is imported at the
top; pyarrow is imported for the set check, after every timed run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# Columns the job needs to compute its statistics: the decode floor reads these.
JOB_COLUMNS = ["hs_code", "origin", "quantity", "customs_value"]
# The job's output is the flagged lines' (declaration_id, line_no): a floor that also
# decodes those two is reported beside (never instead of) the 4-column one.
OUTPUT_COLUMNS = JOB_COLUMNS + ["declaration_id", "line_no"]
# Columns tradescan's measure pass decodes for this job (engine/src/price.rs,
# MeasureOptions::columns: no net mass with denominator = quantity and no mass-per-unit,
# no date without a date window or volume detectors).
TRADESCAN_COLUMNS = [
    "hs_code",
    "origin",
    "unit",
    "quantity",
    "customs_value",
]
# Skip reasons of tradescan that reference.sql and reference_polars.py do not mirror:
# when one of them is non-zero, the sets may differ for that reason alone.
UNMIRRORED_SKIPS = ["bad_hs_code", "bad_origin", "bad_unit"]

# Targets of the benchmark issue.
TARGET_SPEEDUP = 4.0  # tradescan >= 4x faster than the faster of DuckDB and Polars
TARGET_FLOOR = 2.0  # tradescan <= 2x the decode floor
TARGET_PEAK_BYTES = 1.5e9  # peak RSS < 1.5 GB
TARGET_THREAD_SPEEDUP = 1.7  # 2 threads >= 1.7x 1 thread
TARGET_SCALING = 1.1  # time(rows2) <= 1.1 * (rows2 / rows) * time(rows): 2.2x for 2x rows


# --------------------------------------------------------------------------- children


def child_duckdb(data_dir: str, out: str, threads: int) -> int:
    """Run reference.sql with DuckDB and write the flagged set to `out` (Parquet)."""
    import duckdb

    sql = (HERE / "reference.sql").read_text()
    t = time.perf_counter()
    con = duckdb.connect(config={"threads": threads})
    glob = str(Path(data_dir) / "**" / "*.parquet").replace("'", "''")
    con.execute(
        "CREATE VIEW declaration_lines AS SELECT * FROM "
        f"read_parquet('{glob}', hive_partitioning = false)"
    )
    target = out.replace("'", "''")
    con.execute(f"COPY (\n{sql}\n) TO '{target}' (FORMAT parquet)")
    seconds = time.perf_counter() - t
    flagged = con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
    print(
        json.dumps(
            {
                "engine": "duckdb",
                "version": duckdb.__version__,
                "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
                "flagged": flagged,
                "seconds": seconds,
            }
        )
    )
    return 0


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    wall: float
    peak_bytes: int | None
    inner: float | None  # the engine's own timing (query / scan), seconds
    flagged: int | None
    out: Path


@dataclass
class Engine:
    name: str  # "tradescan", "DuckDB 2.0.1", ...
    threads: int
    rows: int
    runs: list[Run] = field(default_factory=list)

    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    def inner(self) -> float | None:
        v = [r.inner for r in self.runs if r.inner is not None]
        return statistics.median(v) if v else None

    def peak(self) -> int | None:
        v = [r.peak_bytes for r in self.runs if r.peak_bytes is not None]
        return max(v) if v else None


class HarnessError(Exception):
    pass


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int | None, str]:
    """Run `cmd` as a child, return (wall seconds, peak RSS bytes, stdout)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss", delete=False) as f:
        rss_file = f.name
    try:
        full = cmd
        if Path("/usr/bin/time").exists():
            full = ["/usr/bin/time", "-f", "%M", "-o", rss_file, *cmd]
        t = time.perf_counter()
        p = subprocess.run(full, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t
        if p.returncode != 0:
            raise HarnessError(
                f"{' '.join(cmd)} exited with {p.returncode}\n{p.stderr.strip()[-3000:]}"
            )
        peak = None
        try:
            text = Path(rss_file).read_text().strip().splitlines()
            peak = int(text[-1]) * 1024 if text else None
        except (OSError, ValueError):
            peak = None
        return wall, peak, p.stdout
    finally:
        Path(rss_file).unlink(missing_ok=True)


def run_tradescan(bins: Path, data: Path, out: Path, threads: int) -> Run:
    if out.exists():
        shutil.rmtree(out)
    cmd = [
        str(bins / "tradescan"),
        "scan",
        str(data),
        "--config",
        str(HERE / "reference.toml"),
        "--out",
        str(out),
        "--threads",
        str(threads),
        "--quiet",
    ]
    wall, peak, _ = timed(cmd)
    summary = json.loads((out / "manifest.json").read_text())
    total_ms = summary.get("timings_ms", {}).get("total")
    inner = total_ms / 1000 if total_ms is not None else None
    flagged = summary.get("findings_by_detector", {}).get("robust-z")
    return Run(wall, peak, inner, flagged, out / "findings.parquet")


def run_python_child(
    engine: str, py: str, data: Path, out_dir: Path, threads: int
) -> tuple[Run, str]:
    """Run the DuckDB or Polars reference in a child; return the run and the version."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "flagged.parquet"
    out.unlink(missing_ok=True)
    env = dict(os.environ)
    if engine == "duckdb":
        cmd = [py, str(HERE / "compare.py"), "--child-duckdb", str(data), str(out), str(threads)]
    else:
        env["POLARS_MAX_THREADS"] = str(threads)
        cmd = [py, str(HERE / "reference_polars.py"), str(data), str(out)]
    wall, peak, stdout = timed(cmd, env)
    info = json.loads(stdout.strip().splitlines()[-1])
    if int(info["threads"]) != threads:
        raise HarnessError(f"{engine} ran on {info['threads']} threads, asked for {threads}")
    return Run(wall, peak, info["seconds"], info["flagged"], out), info["version"]


def floor(bins: Path, data: Path, columns: list[str], threads: list[int], repeat: int):
    """Decode floor per thread count: {threads: (median seconds, peak bytes)}."""
    cmd = [
        str(bins / "tradescan-e2e"),
        "--data",
        str(data),
        "--floor-only",
        "--columns",
        ",".join(columns),
        "--threads",
        ",".join(map(str, threads)),
        "--repeat",
        str(repeat),
    ]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise HarnessError(f"{' '.join(cmd)} exited with {p.returncode}\n{p.stderr[-3000:]}")
    result = {}
    for line in p.stdout.splitlines():
        if not line.startswith("floor "):
            continue
        kv = dict(part.split("=", 1) for part in line.split()[1:])
        mib = kv.get("peak_rss_mib", "?")
        result[int(kv["threads"])] = (
            float(kv["seconds"]),
            int(float(mib) * 1048576) if mib != "?" else None,
        )
    return result


# --------------------------------------------------------------------------- data


def ensure_data(bins: Path, root: Path, rows: int, seed: int) -> Path:
    """`root/rows-N-seed-S`, generated by `tradescan generate` unless already there."""
    data = root / f"rows-{rows}-seed-{seed}"
    meta = data / "_labels" / "generator.json"
    if meta.exists():
        try:
            text = meta.read_text()
            cfg = json.loads(text).get("config", {})
            if cfg.get("rows") == rows and cfg.get("seed") == seed:
                return data
        except (OSError, ValueError):
            pass
        raise HarnessError(f"{data} holds another dataset ({meta}); remove it first")
    if data.exists() and any(data.iterdir()):
        raise HarnessError(f"{data} is not empty and has no {meta}: remove it first")
    log(f"generating {rows:,} lines (seed {seed}) into {data}")
    t = time.perf_counter()
    cmd = [
        str(bins / "tradescan"),
        "generate",
        "--rows",
        str(rows),
        "--seed",
        str(seed),
        "--out",
        str(data),
        "--quiet",
    ]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise HarnessError(f"{' '.join(cmd)} exited with {p.returncode}\n{p.stderr[-3000:]}")
    log(f"generated in {time.perf_counter() - t:.1f} s")
    return data


def parquet_files(data: Path) -> list[Path]:
    """Parquet files as tradescan discovers them (names starting with _ or . skipped)."""
    files = []
    for p in sorted(data.rglob("*.parquet")):
        rel = p.relative_to(data).parts
        if any(part.startswith(("_", ".")) for part in rel):
            continue
        files.append(p)
    return files


def warm(files: list[Path]) -> None:
    for f in files:
        with open(f, "rb") as h:
            while h.read(1 << 20):
                pass


# --------------------------------------------------------------------------- checking


def flagged_set(path: Path, detector_column: bool):
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    cols = ["declaration_id", "line_no"] + (["detector"] if detector_column else [])
    t = pq.read_table(path, columns=cols)
    if detector_column:
        t = t.filter(pc.equal(t["detector"], "robust-z"))
    ids = t["declaration_id"].to_pylist()
    nos = t["line_no"].to_pylist()
    pairs = list(zip(ids, nos))
    return set(pairs), len(pairs)


def check_sets(named: list[tuple[str, Path, bool]]) -> tuple[bool, list[str]]:
    """Compare every flagged set with the first; report lines as Markdown bullets.
    A line flagged twice by one engine also counts as a difference."""
    lines = []
    sets = []
    ok = True
    for name, path, det in named:
        s, n = flagged_set(path, det)
        sets.append((name, s))
        if n != len(s):
            ok = False
            lines.append(f"- {name}: {len(s):,} flagged lines, **{n - len(s)} listed twice**")
        else:
            lines.append(f"- {name}: {len(s):,} flagged lines")
    base_name, base = sets[0]
    for name, s in sets[1:]:
        only_base = sorted(base - s, key=repr)
        only_other = sorted(s - base, key=repr)
        if only_base or only_other:
            ok = False
            lines.append(
                f"- **DIFFERENT**: {len(only_base)} lines only in {base_name}, "
                f"{len(only_other)} only in {name}"
            )
            for label, rows in ((base_name, only_base), (name, only_other)):
                for r in rows[:10]:
                    lines.append(f"  - only in {label}: {r}")
                if len(rows) > 10:
                    lines.append(f"  - ... {len(rows) - 10} more only in {label}")
    if ok:
        lines.append(f"- identical: {', '.join(n for n, _ in sets)} flag the same lines")
    return ok, lines


# --------------------------------------------------------------------------- measuring


@dataclass
class Measured:
    """Everything one comparison measured."""

    rows: int
    rows2: int | None
    seed: int
    threads: int
    repeat: int
    data: Path
    files: int
    size: int
    engines: list[Engine]  # tradescan T, [tradescan 1], DuckDB, Polars
    scaled: Engine | None  # tradescan T on rows2
    floors: dict[str, dict[int, tuple[float, int | None]]]  # columns label -> threads ->
    versions: dict[str, str]
    identical: bool
    set_lines: list[str]
    load: tuple[str, str]  # load average before and after


def measure(a) -> Measured:
    bins = a.bin_dir.resolve()
    root = a.data_root.resolve()
    threads = a.threads
    data = ensure_data(bins, root, a.rows, a.seed)
    data2 = ensure_data(bins, root, a.rows2, a.seed) if a.rows2 else None
    files = parquet_files(data)
    outs = root / "out" / f"rows-{a.rows}"
    outs.mkdir(parents=True, exist_ok=True)
    load_before = loadavg()
    warm(files)

    thread_counts = sorted({1, threads})
    floors = {}
    for label, columns in (
        ("job's 4 columns", JOB_COLUMNS),
        ("tradescan's 5", TRADESCAN_COLUMNS),
        ("job's 4 + output's 2", OUTPUT_COLUMNS),
    ):
        log(f"decode floor ({', '.join(columns)}), threads {thread_counts}")
        floors[label] = floor(bins, data, columns, thread_counts, a.repeat)

    ts = Engine("tradescan", threads, a.rows)
    ts1 = Engine("tradescan", 1, a.rows) if threads != 1 else None
    duck = Engine("DuckDB", threads, a.rows)
    pol = Engine("Polars", threads, a.rows)
    scaled = None
    if data2 is not None:
        warm(parquet_files(data2))
        scaled = Engine("tradescan", threads, a.rows2)
    versions = {}
    for k in range(a.repeat):
        ts.runs.append(run_tradescan(bins, data, outs / f"tradescan-t{threads}", threads))
        log(f"round {k + 1}: tradescan, {threads} threads: {ts.runs[-1].wall:.3f} s")
        for engine, e in (("duckdb", duck), ("polars", pol)):
            run, versions[engine] = run_python_child(engine, a.python, data, outs / engine, threads)
            e.runs.append(run)
            log(f"round {k + 1}: {engine}, {threads} threads: {run.wall:.3f} s")
        if ts1 is not None:
            ts1.runs.append(run_tradescan(bins, data, outs / "tradescan-t1", 1))
            log(f"round {k + 1}: tradescan, 1 thread: {ts1.runs[-1].wall:.3f} s")
        if scaled is not None:
            # In the same rounds as the base size, so that the ratio compares runs made
            # under the same load.
            scaled.runs.append(
                run_tradescan(bins, data2, outs / f"tradescan-t{threads}-rows2", threads)
            )
            log(f"round {k + 1}: tradescan on {a.rows2:,} lines: {scaled.runs[-1].wall:.3f} s")
    duck.name = f"DuckDB {versions['duckdb']}"
    pol.name = f"Polars {versions['polars']}"

    # The flagged sets, after every timed run (pyarrow is imported here).
    engines = [ts] + ([ts1] if ts1 else []) + [duck, pol]
    named = [
        (f"{e.name} ({e.threads} thread{'s' if e.threads > 1 else ''})", e.runs[-1].out,
         e.name == "tradescan")
        for e in engines
    ]
    identical, set_lines = check_sets(named)
    for e in engines + ([scaled] if scaled else []):
        counts = sorted({r.flagged for r in e.runs})
        if len(counts) > 1:
            identical = False
            set_lines.append(f"- **{e.name} ({e.threads} threads): counts differ between runs: "
                             f"{counts}**")
    summary = json.loads((outs / f"tradescan-t{threads}" / "manifest.json").read_text())
    for reason in UNMIRRORED_SKIPS:
        n = summary.get("rows_skipped", {}).get(reason, 0)
        if n:
            set_lines.append(f"- warning: tradescan skipped {n:,} lines as `{reason}`, which "
                             "reference.sql and reference_polars.py do not mirror")
    return Measured(
        rows=a.rows, rows2=a.rows2, seed=a.seed, threads=threads, repeat=a.repeat,
        data=data, files=len(files), size=sum(f.stat().st_size for f in files),
        engines=engines, scaled=scaled, floors=floors, versions=versions,
        identical=identical, set_lines=set_lines, load=(load_before, loadavg()),
    )


# --------------------------------------------------------------------------- report


def log(msg: str) -> None:
    print(f"compare: {msg}", file=sys.stderr, flush=True)


def sh(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           cwd=ROOT)
        return p.stdout.strip()
    except OSError:
        return ""


def proc_field(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    return proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown CPU"


def mem_total() -> str:
    kib = proc_field("/proc/meminfo", "MemTotal:")
    return f"{int(kib.split()[0]) / 1048576:.0f} GiB" if kib else "?"


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def fmt_mib(b: int | None) -> str:
    return "?" if b is None else f"{b / 1048576:,.0f} MiB"


def fmt_s(s: float | None) -> str:
    return "-" if s is None else f"{s:.3f}"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**pass**" if ok else "**FAIL**")


def report(m: Measured) -> str:
    T = m.threads
    ts = m.engines[0]
    ts1 = next((e for e in m.engines[1:] if e.name == "tradescan"), None)
    others = [e for e in m.engines if e.name != "tradescan"]
    base = ts.wall()
    fastest = min(e.wall() for e in others)
    floor_t = m.floors["job's 4 columns"][T][0]
    speedup = ts1.wall() / base if ts1 else None
    peaks = [p for p in (ts.peak(), ts1.peak() if ts1 else None) if p is not None]
    peak = max(peaks) if peaks else None
    commit = sh(["git", "rev-parse", "--short=12", "HEAD"]) or "?"
    dirty = sh(["git", "status", "--porcelain", "--untracked-files=no"])
    now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")

    out = [
        f"## tradescan vs DuckDB vs Polars: robust z per (HS6, origin), {m.rows:,} lines",
        "",
        f"- data: `tradescan generate --rows {m.rows} --seed {m.seed}`: {m.files} files, "
        f"{m.size / 1048576:,.0f} MiB of Parquet (`{m.data}`)",
        f"- machine: {cpu_model()}, `nproc` {sh(['nproc']) or os.cpu_count()}, {mem_total()} "
        f"RAM; load average before {m.load[0]}, after {m.load[1]}",
        f"- date: {now}; git commit {commit}{' (uncommitted changes)' if dirty else ''}",
        f"- DuckDB {m.versions['duckdb']}, Polars {m.versions['polars']}, "
        f"Python {platform.python_version()}",
        f"- median of {m.repeat} run(s) per row, engines interleaved round by round, page "
        "cache warm",
        "",
        "| engine | threads | median wall s | engine-reported s | peak RSS "
        "| wall / tradescan | flagged |",
        "|---|---|---|---|---|---|---|",
    ]

    def row(name, e):
        flagged = ", ".join(f"{f:,}" for f in sorted({r.flagged for r in e.runs
                                                       if r.flagged is not None}))
        return (f"| {name} | {e.threads} | {e.wall():.3f} | {fmt_s(e.inner())} "
                f"| {fmt_mib(e.peak())} | {e.wall() / base:.2f} | {flagged or '?'} |")

    for e in m.engines:
        out.append(row(e.name, e))
    for label, per_threads in m.floors.items():
        for t, (s, p) in sorted(per_threads.items()):
            out.append(f"| decode floor, {label} | {t} | {s:.3f} | - | {fmt_mib(p)} "
                       f"| {s / base:.2f} | - |")
    if m.scaled is not None:
        out.append(row(f"tradescan, {m.rows2:,} lines", m.scaled))
    out += [
        "",
        "wall: the child process from start to exit (start-up, imports and writing the "
        "flagged set included). engine-reported: tradescan's `timings_ms.total` from "
        "manifest.json; for DuckDB and Polars, from connecting / scanning to the written "
        "result. peak RSS: `/usr/bin/time -f %M` of the child, the maximum over runs. "
        "decode floor: the parquet crate decoding only those columns, in process "
        "(`tradescan-e2e --floor-only`); the job's 4 are hs_code, origin, quantity, "
        "customs_value; tradescan's measure pass decodes 5 for this job (+ unit); the "
        "output's 2 are declaration_id and line_no, which identify the flagged lines "
        "the job returns (a second floor, beside the 4-column one the target uses).",
        "",
        f"- tradescan / decode floor ({T} threads, job's 4 columns): {base / floor_t:.2f}",
    ]
    if T in m.floors.get("job's 4 + output's 2", {}):
        f6 = m.floors["job's 4 + output's 2"][T][0]
        out.append(f"- tradescan / decode floor ({T} threads, job's 4 + output's 2 columns): "
                   f"{base / f6:.2f}")
    if ts1 is not None and 1 in m.floors["job's 4 columns"]:
        f1 = m.floors["job's 4 columns"][1][0]
        out.append(f"- tradescan / decode floor (1 thread, job's 4 columns): {ts1.wall() / f1:.2f}")
    if speedup is not None:
        out.append(f"- tradescan {T}-thread speedup over 1 thread: {speedup:.2f}x")
    out.append(f"- faster of DuckDB and Polars / tradescan: {fastest / base:.2f}x")
    if m.scaled is not None:
        out.append(f"- tradescan on {m.rows2:,} / {m.rows:,} lines: {m.scaled.wall() / base:.2f}x "
                   f"the time for {m.rows2 / m.rows:.2f}x the lines")
    out += ["", "### Flagged sets", ""] + m.set_lines
    out += [
        "",
        "### Targets",
        "",
        "| target | measured | result |",
        "|---|---|---|",
        f"| tradescan >= {TARGET_SPEEDUP:g}x faster than the faster of DuckDB and Polars "
        f"({T} threads) | {fastest / base:.2f}x | {verdict(fastest / base >= TARGET_SPEEDUP)} |",
        f"| tradescan within {TARGET_FLOOR:g}x of the decode floor ({T} threads, job's 4 "
        f"columns) | {base / floor_t:.2f}x | {verdict(base / floor_t <= TARGET_FLOOR)} |",
        f"| tradescan peak RSS < {TARGET_PEAK_BYTES / 1e9:g} GB | {fmt_mib(peak)} "
        f"| {verdict(None if peak is None else peak < TARGET_PEAK_BYTES)} |",
    ]
    if speedup is not None and T == 2:
        out.append(f"| tradescan 2 threads >= {TARGET_THREAD_SPEEDUP:g}x 1 thread "
                   f"| {speedup:.2f}x | {verdict(speedup >= TARGET_THREAD_SPEEDUP)} |")
    else:
        out.append(f"| tradescan 2 threads >= {TARGET_THREAD_SPEEDUP:g}x 1 thread "
                   f"| not run (`--threads {T}`) | n/a |")
    if m.scaled is not None:
        limit = TARGET_SCALING * m.rows2 / m.rows
        ratio = m.scaled.wall() / base
        out.append(f"| tradescan on {m.rows2:,} lines <= {limit:.2f}x the time of {m.rows:,} "
                   f"| {ratio:.2f}x | {verdict(ratio <= limit)} |")
    else:
        out.append("| tradescan on 2x the lines <= 2.2x the time | not run (`--rows2`) | n/a |")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] == "--child-duckdb":
        if len(argv) != 5:
            print("usage: compare.py --child-duckdb DATA OUT THREADS", file=sys.stderr)
            return 64
        return child_duckdb(argv[2], argv[3], int(argv[4]))

    ap = argparse.ArgumentParser(
        description="tradescan vs DuckDB vs Polars on one job (see README.md)"
    )
    ap.add_argument("--rows", type=int, default=20_000_000, help="lines (default 20000000)")
    ap.add_argument("--rows2", type=int, default=None,
                    help="second size for the scaling check, e.g. 40000000 (default: off)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per engine (default 3)")
    ap.add_argument("--threads", type=int, default=2, help="threads per engine (default 2)")
    ap.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    ap.add_argument("--data-root", type=Path, default=HERE / "data",
                    help="datasets and outputs (default benches/compare/data)")
    ap.add_argument("--bin-dir", type=Path, required=True,
                    help="folder holding the release binaries tradescan and tradescan-e2e")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter with duckdb and polars (default: this one)")
    a = ap.parse_args(argv[1:])
    if min(a.rows, a.repeat, a.threads, a.rows2 or 1) < 1:
        ap.error("--rows, --rows2, --repeat and --threads must be at least 1")
    try:
        m = measure(a)
    except HarnessError as e:
        print(f"compare: {e}", file=sys.stderr)
        return 2
    text = report(m)
    print(text)
    path = a.data_root.resolve() / "out" / f"rows-{a.rows}" / "report.md"
    path.write_text(text)
    log(f"report written to {path}")
    if not m.identical:
        log("the flagged sets differ (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
