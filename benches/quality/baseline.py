"""Run baseline.sql with DuckDB and write its flags as a scan output tradescan eval reads.

    python baseline.py DATA OUT --group hs6,origin,unit
    python baseline.py DATA OUT --sql volume_baseline.sql

Writes OUT/findings.parquet (detector, declaration_id, line_no, score; the volume
baseline's series findings also have series_key, hs6, importer_id, origin, office and
period_start) and OUT/manifest.json (rows_total: the lines of DATA; seconds: the
query's wall time, writing the findings included).
"""

import argparse
import json
import pathlib
import time

import duckdb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=pathlib.Path)
    ap.add_argument("out", type=pathlib.Path)
    ap.add_argument("--group", default="hs6,origin,unit")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sql", default="baseline.sql", help="file beside this script")
    a = ap.parse_args()
    glob = str(a.data / "**" / "*.parquet")
    sql = (pathlib.Path(__file__).parent / a.sql).read_text()
    uses_group = "{group}" in sql
    sql = sql.replace("{group}", a.group).replace("{data}", glob)
    a.out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET threads = {a.threads}")
    t = time.perf_counter()
    con.execute(f"COPY ({sql}) TO '{a.out / 'findings.parquet'}' (FORMAT parquet)")
    seconds = time.perf_counter() - t
    rows = con.execute(
        f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)"
    ).fetchone()[0]
    manifest = {"rows_total": rows, "sql": a.sql}
    if uses_group:
        manifest["group"] = a.group
    manifest["seconds"] = round(seconds, 2)
    (a.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
