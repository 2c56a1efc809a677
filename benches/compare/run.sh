#!/usr/bin/env bash
# Side-by-side comparison of tradescan, DuckDB and Polars on one job (README.md here).
#
#   benches/compare/run.sh [--rows N] [--rows2 N2] [--repeat K] [--threads T] [--seed S]
#
# Defaults: --rows 20000000 --repeat 3 --threads 2, no --rows2. Creates the venv
# benches/compare/.venv from requirements.txt when missing (or when requirements.txt
# changed), builds the release binaries, then runs compare.py, which generates the data
# under benches/compare/data/ when absent, times every engine, checks the flagged sets
# and prints a Markdown report. Exit status: 0 when the three engines flag the same
# lines, 1 when they differ, 2 on an error.
#
# Environment: PYTHON (interpreter for the venv, default python3), CARGO_TARGET_DIR
# (as for cargo), SKIP_BUILD=1 (use the binaries already built).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
stamp="$venv/.requirements.txt"

if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$here/requirements.txt" "$stamp" \
    || ! "$venv/bin/python" -c 'import duckdb, polars, pyarrow' 2>/dev/null; then
    echo "run.sh: installing $here/requirements.txt into $venv" >&2
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$stamp"
fi

target="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target" = /* ]] || target="$root/$target"   # cargo below runs in $root
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "run.sh: cargo build --release (tradescan, tradescan-e2e)" >&2
    (cd "$root" && cargo build --release --quiet -p tradescan-cli --bin tradescan \
        -p tradescan-benches --bin tradescan-e2e)
fi

exec "$venv/bin/python" "$here/compare.py" --bin-dir "$target/release" "$@"
