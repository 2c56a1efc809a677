#!/usr/bin/env bash
# Detection quality on generated data: tradescan beside a by-hand DuckDB baseline (robust
# z per HS6 x origin x unit) and the same SQL at the level the generator priced by (the
# national code: an oracle no analyst has), plus a by-hand DuckDB volume baseline (weekly
# quantity per HS6 x importer above the trailing 26-week mean + 5 sd: sql-volume), all
# scored by `tradescan eval`.
#
#   benches/quality/run.sh [--rows N] [--months M] [--seeds "1 2"] [--profiles "realistic clean"]
#
# Defaults: 2,000,000 lines, 24 months, seeds 1 and 2, both profiles. Data are
# generated under benches/quality/data/ when absent; outputs and eval reports go to
# benches/quality/results/<profile>-<rows>-<seed>/. Prints two Markdown tables (line
# findings, and hs6_importer series findings). Needs Python 3 (a venv with DuckDB is
# made in benches/quality/.venv).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rows=2000000 months=24 seeds="1 2" profiles="realistic clean"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rows) rows="$2"; shift 2 ;;
        --months) months="$2"; shift 2 ;;
        --seeds) seeds="$2"; shift 2 ;;
        --profiles) profiles="$2"; shift 2 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
. "$here/setup.sh"
for profile in $profiles; do
    for seed in $seeds; do
        name="$profile-$rows-$seed"
        data="$here/data/$name"
        out="$here/results/$name"
        if [[ ! -d "$data/_labels" ]]; then
            "$bin" generate --profile "$profile" --rows "$rows" --months "$months" \
                --seed "$seed" --out "$data" >&2
        fi
        rm -rf "$out" && mkdir -p "$out"
        "$bin" --quiet scan "$data" --out "$out/tradescan" >&2
        "$venv/bin/python" "$here/baseline.py" "$data" "$out/sql-hs6" \
            --group hs6,origin,unit
        "$venv/bin/python" "$here/baseline.py" "$data" "$out/sql-oracle" \
            --group hs_code,origin,unit
        "$venv/bin/python" "$here/baseline.py" "$data" "$out/sql-volume" \
            --sql volume_baseline.sql
        for method in tradescan sql-hs6 sql-oracle sql-volume; do
            "$bin" eval --findings "$out/$method" --labels "$data/_labels" --json \
                > "$out/$method.eval.json"
        done
    done
done
"$venv/bin/python" "$here/report.py" "$here/results"
