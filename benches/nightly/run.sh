#!/usr/bin/env bash
# Scoring one night against a stored baseline vs a full refit, side by side (README,
# "Running nightly"). Optional, not in CI.
#
#   benches/nightly/run.sh [--rows N] [--repeat K] [--threads T] [--day YYYY-MM-DD]
#
# Defaults: 20,000,000 generated lines (seed 42, the comparison harness's data under
# benches/compare/data, generated when absent), 3 rounds, 2 threads, night 2025-12-15.
# History = months 1-11; the night = that day's lines of month 12, cut out with pyarrow
# (the comparison harness's venv, created by benches/compare/run.sh's requirements).
# Each round times: scan NIGHT --baseline BASE; scan HISTORY NIGHT (rescan everything);
# fit HISTORY NIGHT (full refit). Prints wall seconds and peak RSS per run.
set -euo pipefail

rows=20000000 repeat=3 threads=2 day=2025-12-15
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rows) rows="$2"; shift 2 ;;
        --repeat) repeat="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --day) day="$2"; shift 2 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/benches/compare/.venv"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import pyarrow' 2>/dev/null; then
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$root/benches/compare/requirements.txt"
fi
target="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target" = /* ]] || target="$root/$target"
(cd "$root" && cargo build --release --quiet -p tradescan-cli --bin tradescan)
ts="$target/release/tradescan"

data="$root/benches/compare/data/rows-$rows-seed-42"
[[ -d "$data" ]] || "$ts" generate --rows "$rows" --seed 42 --out "$data" --quiet
work="$root/benches/nightly/work"
mkdir -p "$work"
history=("$data"/year=2025/month={01,02,03,04,05,06,07,08,09,10,11}/part-0.parquet)
night="$work/night-$day.parquet"
[[ -f "$night" ]] || "$venv/bin/python" - "$data/year=2025/month=12/part-0.parquet" "$day" "$night" <<'PY'
import datetime, sys
import pyarrow.compute as pc, pyarrow.parquet as pq
src, day, out = sys.argv[1], datetime.date.fromisoformat(sys.argv[2]), sys.argv[3]
t = pq.read_table(src)
pq.write_table(t.filter(pc.equal(t.column("date"), day)), out, compression="snappy")
PY
base="$work/base"
[[ -f "$base/baseline.json" ]] || "$ts" --threads "$threads" --quiet fit "${history[@]}" --out "$base"

timed() {  # label, command...
    local label="$1"; shift
    /usr/bin/time -f "$label %e s %M KB" "$@" >/dev/null 2>"$work/time.txt" || true
    tail -1 "$work/time.txt"
}
for ((r = 1; r <= repeat; r++)); do
    rm -rf "$work/out-night" "$work/out-full" "$work/refit"
    timed night "$ts" --threads "$threads" --quiet scan "$night" --baseline "$base" --out "$work/out-night"
    timed rescan "$ts" --threads "$threads" --quiet scan "${history[@]}" "$night" --out "$work/out-full"
    timed refit "$ts" --threads "$threads" --quiet fit "${history[@]}" "$night" --out "$work/refit"
done
python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print('night rows', m['rows_read'], 'timings_ms', m['timings_ms'])" "$work/out-night/manifest.json"
